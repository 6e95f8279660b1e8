import { createSourceSchema, patchSourceSchema } from "../domain/source.js";
import { patchWebhookSchema } from "../domain/webhook.js";
import { canonicalInputSchema, MAX_BATCH_EVENTS } from "../sources/canonical.js";
import { deliveryFilterSchema, recoverRequestSchema, replayRequestSchema } from "../domain/delivery.js";
import { eventFilterSchema } from "../domain/event.js";
import { OVERLOAD_RETRY_AFTER_S } from "./admission.js";
import { DATABASE_WAIT_MS } from "./bounded-read.js";
import { pageSchema } from "./list-query.js";
import { type BodyName, type JsonSchema, queryParameters, requestSchema, responseSchemas } from "./openapi-schemas.js";
import { previewEventSchema, previewSchema } from "./preview.js";
import { RECOVER_PAGE } from "./recover.js";
import { REPLAY_PAGE, REPLAY_PAGE_BYTES } from "./replay.js";
import { createWebhookRequestSchema } from "./webhook-create.js";

// The OpenAPI 3.1 description of the HTTP API: every route, what it takes and what it answers, each status with
// its body. The bodies' JSON Schemas come from the zod schemas the code uses (openapi-schemas.ts).

type Operation = Record<string, unknown>;

const ref = (name: BodyName) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: JsonSchema, required = true) => ({ required, content: { "application/json": { schema } } });
const jsonReply = (description: string, schema: JsonSchema) => ({ description, content: { "application/json": { schema } } });
/** A response whose body is one of the named response bodies (openapi-schemas.ts). */
const reply = (description: string, name: BodyName) => jsonReply(description, ref(name));

const ID = { name: "id", in: "path", required: true, schema: { type: "string" } };
const ERROR_STATUSES = {
  400: "Invalid input: `details` names each invalid field",
  401: "Missing or invalid credentials",
  403: "Forbidden (a disabled source)",
  404: "Not found",
  409: "Conflict with the current state",
  413: "Request body too large",
  415: "Send Content-Type: application/json",
  422: "A template or expression does not compile or render",
  429: "Too many requests (a source's rate limit, or wrong admin tokens): retry after `Retry-After` seconds",
  503: "The database cannot take this now (a full disk, say): nothing was changed; retry after `Retry-After` seconds",
} as const;
type ErrorStatus = keyof typeof ERROR_STATUSES;

/** How long `/health` and `/metrics` wait for the database, in words. */
const waitText = `${DATABASE_WAIT_MS / 1000} s`;
/** Seconds to wait: on 429 and 503. */
const RETRY_AFTER = { "Retry-After": { description: "Seconds to wait before trying again", schema: { type: "integer" } } };

/** `components.responses.Error<status>`: the error body, and for 429 and 503 when to come back. */
function errorResponse(status: ErrorStatus) {
  const response = reply(ERROR_STATUSES[status], "Error");
  return status === 429 || status === 503 ? { ...response, headers: RETRY_AFTER } : response;
}

/** The responses of these error statuses: references to `components.responses`. */
function errors(...statuses: ErrorStatus[]) {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: `#/components/responses/Error${status}` }]));
}

function op(summary: string, responses: Record<string, unknown>, extra: Operation = {}): Operation {
  return { summary, ...extra, responses };
}

// Every /api route checks the token and the body's size (ADMIN_BODY_LIMIT) before it runs, whatever its method.
const admin = (tag: string, summary: string, responses: Record<string, unknown>, extra: Operation = {}) =>
  op(summary, { ...responses, ...errors(401, 413, 429, 503) }, { tags: [tag], ...extra });

/** What a client can rely on of this document without an OpenAPI schema of its own. */
const OPENAPI_OBJECT = { type: "object", required: ["openapi", "info", "paths"], properties: { openapi: { const: "3.1.0" } }, additionalProperties: true };

/** Ingest's 503: the database's, or on Node the bounds on ingest requests and body bytes held at once; all ask for a resend. */
const ingestUnavailable = {
  ...jsonReply(
    "Nothing was stored; send it again after `Retry-After` seconds. `overloaded` (Node): the gateway is already handling " +
      `\`INGEST_MAX_PENDING\` ingest requests, or this body would take the bytes of those it holds past ` +
      `\`INGEST_MAX_BODY_BYTES\` (\`Retry-After: ${OVERLOAD_RETRY_AFTER_S}\`); ` +
      "`storage_unavailable`: the database cannot take this now (a full disk, say)",
    ref("Error"),
  ),
  headers: RETRY_AFTER,
};

/** An ingest body: canonical events, or a PBX's own payload; a VoIPAppz one whatever its Content-Type says. */
function ingestBody() {
  const body = jsonBody({
    anyOf: [
      requestSchema(canonicalInputSchema),
      { type: "array", minItems: 1, maxItems: MAX_BATCH_EVENTS, items: requestSchema(canonicalInputSchema) },
      { type: "object", description: "A Wildix, VoIPcloud or VoIPAppz payload, as the PBX sends it" },
    ],
  });
  const anyType = { schema: { type: "string", description: "A VoIPAppz source only: its payload, a JSON object, under any Content-Type" } };
  return { ...body, content: { ...body.content, "*/*": anyType } };
}

/** Every route: its operations, what each takes and what it answers. */
function paths() {
  const webhookBody = requestSchema(createWebhookRequestSchema);
  return {
    "/api/sources": {
      get: admin("sources", "List sources (secrets masked)", { 200: reply("Sources", "SourceList") }),
      post: admin("sources", "Create a source; the answer shows its secret, once", {
        201: reply("The source, with its secret and ingest URL", "Source"),
        ...errors(400, 415),
      }, { requestBody: jsonBody(requestSchema(createSourceSchema)) }),
    },
    "/api/sources/{id}": {
      parameters: [ID],
      get: admin("sources", "One source", { 200: reply("The source", "Source"), ...errors(404) }),
      patch: admin("sources", "Change a source", { 200: reply("The source; its secret in full if this changed it", "Source"), ...errors(400, 404, 415) }, {
        requestBody: jsonBody(requestSchema(patchSourceSchema)),
      }),
      delete: admin("sources", "Delete a source; not while a webhook rule names it (409 naming the rules)", {
        204: { description: "Deleted" },
        ...errors(404, 409),
      }),
    },
    "/api/webhooks": {
      get: admin("webhooks", "List webhook rules (secrets masked)", { 200: reply("Rules", "WebhookList") }),
      post: admin("webhooks", "Create a webhook rule", { 201: reply("The rule, with its signing secret, once", "Webhook"), ...errors(400, 415, 422) }, {
        description:
          "A custom rule (no `preset`) names `events` and `url`; with `preset`, the preset fills in `events`, `url`, the payload and more, and any field given overrides it.",
        requestBody: jsonBody(webhookBody),
      }),
    },
    "/api/webhooks/{id}": {
      parameters: [ID],
      get: admin("webhooks", "One webhook rule", { 200: reply("The rule", "Webhook"), ...errors(404) }),
      patch: admin("webhooks", "Change the fields named", { 200: reply("The rule; its signing secret in full if this changed it", "Webhook"), ...errors(400, 404, 415, 422) }, {
        requestBody: jsonBody(requestSchema(patchWebhookSchema)),
      }),
      delete: admin("webhooks", "Delete a webhook rule", { 204: { description: "Deleted" }, ...errors(404) }),
    },
    "/api/webhooks/{id}/preview": {
      parameters: [ID],
      post: admin("webhooks", "Render the rule's request for an event without sending it", {
        200: reply("The exact request, secrets masked", "Preview"),
        ...errors(400, 404, 415, 422),
      }, { requestBody: jsonBody(requestSchema(previewEventSchema.strict()), false) }),
    },
    "/api/webhooks/{id}/test": {
      parameters: [ID],
      post: admin("webhooks", "Send a sample (or given) event through the rule now", {
        202: reply("The delivery created", "Delivery"),
        ...errors(400, 404, 415),
      }, { requestBody: jsonBody(requestSchema(previewEventSchema.strict()), false) }),
    },
    "/api/webhooks/{id}/recover": {
      parameters: [ID],
      post: admin("webhooks", "Retry the rule's failed deliveries created in a window, oldest first, a page at a time", {
        202: reply("How many were retried, and whether more are left", "Recovered"),
        ...errors(400, 404, 409, 415),
      }, {
        description:
          `Each failed delivery of the rule created from \`since\` (until before \`until\`, if given) is retried as ` +
          "`POST /api/deliveries/{id}/retry` does: a fresh retry budget, sent at once with the same `webhook-id`; one not rendered " +
          "is rendered anew from the rule as it is now, and stays failed if it still cannot be (`render_failed`); one changed meanwhile " +
          `is passed over. At most ${RECOVER_PAGE} a request: while \`more\`, call again with \`cursor\` set to \`next_cursor\`. ` +
          "409 while the rule is disabled: enable it first.",
        requestBody: jsonBody(requestSchema(recoverRequestSchema)),
      }),
    },
    "/api/webhooks/{id}/replay-missing": {
      parameters: [ID],
      post: admin("webhooks", "Send the rule the events of a window it has no delivery of, oldest first, a page at a time", {
        202: reply("How many deliveries were made, and whether more events are left", "Replayed"),
        ...errors(400, 404, 409, 415),
      }, {
        description:
          "Each event received from `since` (until before `until`, if given) that the rule takes now (its events, call types, sources " +
          "and filter) and has no delivery of (it was disabled, or made since) gets one, rendered from the rule as it is now and sent " +
          "as ingest's are; one that cannot be rendered is recorded failed (`render_failed`). Test sends are not replayed, and no event " +
          `gets a second delivery of the rule, however many calls run at once. At most ${REPLAY_PAGE} events are looked at a request, ` +
          `and at most ${REPLAY_PAGE_BYTES / 1024 / 1024} MiB of them read whole (at least one event): ` +
          "while `more`, call again with `cursor` set to `next_cursor`. 409 while the rule is disabled: enable it first.",
        requestBody: jsonBody(requestSchema(replayRequestSchema)),
      }),
    },
    "/api/preview": {
      post: admin("webhooks", "Render an unsaved rule's request for an event", {
        200: reply("The exact request, secrets masked", "Preview"),
        ...errors(400, 404, 415, 422),
      }, { requestBody: jsonBody(requestSchema(previewSchema)) }),
    },
    "/api/samples": {
      get: admin("events", "A sample event of each source kind", { 200: reply("Samples", "SampleList") }),
    },
    "/api/presets": {
      get: admin("presets", "CRM presets and the settings they need", { 200: reply("Presets", "PresetList") }),
    },
    "/api/presets/{id}": {
      parameters: [ID],
      get: admin("presets", "One preset", { 200: reply("The preset", "Preset"), ...errors(404) }),
    },
    "/api/events": {
      get: admin("events", "List events, newest first", { 200: reply("Events", "EventList"), ...errors(400) }, {
        parameters: queryParameters(eventFilterSchema, pageSchema),
      }),
    },
    "/api/events/{id}": {
      parameters: [ID],
      get: admin("events", "One event, canonical and raw, with its deliveries and why the other rules made none", { 200: reply("The event", "EventDetail"), ...errors(404) }, {
        description:
          "`rules_without_delivery` is worked out as the event is read, against the rules as they are now; `since_event` marks a rule made " +
          "or changed (disabled or enabled, too) since the event came in, whose answer now may not be why it made no delivery then.",
      }),
    },
    "/api/deliveries": {
      get: admin("deliveries", "List deliveries, newest first", { 200: reply("Deliveries", "DeliveryList"), ...errors(400) }, {
        parameters: queryParameters(deliveryFilterSchema, pageSchema),
      }),
    },
    "/api/deliveries/{id}": {
      parameters: [ID],
      get: admin("deliveries", "One delivery with every attempt", { 200: reply("The delivery", "DeliveryDetail"), ...errors(404) }),
    },
    "/api/deliveries/{id}/retry": {
      parameters: [ID],
      post: admin("deliveries", "Send a delivery now, with a fresh retry budget: a finished one again, a pending one without waiting for its next attempt; 409 while it is being sent", {
        202: reply("The delivery, pending and due now", "Delivery"),
        ...errors(404, 409, 422),
      }),
    },
    "/ingest/{sourceId}": {
      post: op("Where a PBX posts its call events", {
        202: jsonReply("Committed: the event id (the first one's for a repeat) and how many deliveries it made; for an array, each event's", {
          anyOf: [ref("Accepted"), ref("AcceptedBatch")],
        }),
        ...errors(400, 401, 403, 404, 413, 415, 429),
        503: ingestUnavailable,
      }, {
        tags: ["ingest"],
        description:
          "Authenticated by the source's secret: `wildix` signs with `x-signature`, `voipcloud` sends `X-Pbx-Token`, " +
          "`canonical` and `voipappz` use a bearer secret or `x-signature`, and `voipappz` also `?token=` (its webhook " +
          "screen sets no headers, so it may send its JSON under any Content-Type). A canonical source takes one event or an " +
          `array of at most ${MAX_BATCH_EVENTS}; the other kinds take their PBX's own payload.`,
        parameters: [
          { name: "sourceId", in: "path", required: true, schema: { type: "string" } },
          // What a VoIPAppz webhook screen (a URL, a method and a body) can send besides the body.
          { name: "token", in: "query", required: false, description: "VoIPAppz: the source's secret", schema: { type: "string" } },
          {
            name: "event",
            in: "query",
            required: false,
            description: "VoIPAppz: the event (`Call:Hangup`...) when the body does not carry `event`",
            schema: { type: "string" },
          },
        ],
        security: [{ sourceSecret: [] }, { sourceSignature: [] }, { pbxToken: [] }, { sourceToken: [] }],
        requestBody: ingestBody(),
      }),
    },
    "/health": {
      get: op("Health: up, and the database answers a read", {
        200: reply("Up", "Health"),
        503: jsonReply(
          `The database did not answer, or not within ${waitText} (why is logged). On Workers, an isolate that could not reach the database to start ` +
            "answers every route, this one too, with the error `storage_unavailable` and `Retry-After`",
          { anyOf: [ref("HealthUnavailable"), ref("Error")] },
        ),
      }, { tags: ["operations"], security: [] }),
    },
    "/metrics": {
      get: op("Prometheus metrics (text exposition format 0.0.4)", {
        200: { description: "Metrics", content: { "text/plain": { schema: { type: "string" } } } },
        // 503: on Workers only, from an isolate that could not start (see /health).
        ...errors(401, 503),
      }, {
        tags: ["operations"],
        description:
          "Open unless `METRICS_TOKEN` is set; then it needs `Authorization: Bearer <metrics token>`. Answered whatever the " +
          `database does: when it does not answer within ${waitText}, \`gateway_database_up\` is 0 and the gauges read from it are left out.`,
        security: [{}, { metricsToken: [] }],
      }),
    },
    "/openapi.json": {
      // 503: on Workers only, from an isolate that could not start (see /health).
      get: op("This document", { 200: jsonReply("OpenAPI 3.1", OPENAPI_OBJECT), ...errors(503) }, { tags: ["operations"], security: [] }),
    },
  };
}

function components() {
  return {
    schemas: responseSchemas(),
    responses: Object.fromEntries(Object.keys(ERROR_STATUSES).map((status) => [`Error${status}`, errorResponse(Number(status) as ErrorStatus)])),
    securitySchemes: {
      adminToken: { type: "http", scheme: "bearer", description: "The admin token (ADMIN_TOKEN)" },
      metricsToken: { type: "http", scheme: "bearer", description: "METRICS_TOKEN, when set" },
      sourceSecret: { type: "http", scheme: "bearer", description: "The source's secret" },
      sourceSignature: { type: "apiKey", in: "header", name: "x-signature", description: "Hex HMAC-SHA256 of the raw body keyed by the source's secret" },
      pbxToken: { type: "apiKey", in: "header", name: "X-Pbx-Token", description: "The source's secret (VoIPcloud)" },
      sourceToken: { type: "apiKey", in: "query", name: "token", description: "The source's secret (VoIPAppz)" },
    },
  };
}

/** The OpenAPI 3.1 document of the gateway's API. */
export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "Call-event gateway",
      version: "1",
      description: "PBX call events in, rendered webhooks out, with durable retries and a delivery log.",
      license: { name: "MIT", identifier: "MIT" },
    },
    security: [{ adminToken: [] }],
    paths: paths(),
    components: components(),
  };
}

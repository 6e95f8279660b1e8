import { z } from "zod";
import { createSourceSchema, patchSourceSchema } from "../domain/source.js";
import { patchWebhookSchema } from "../domain/webhook.js";
import { canonicalInputSchema, MAX_BATCH_EVENTS } from "../sources/canonical.js";
import { deliveryFilterSchema } from "../domain/delivery.js";
import { eventFilterSchema } from "../domain/event.js";
import { pageSchema } from "./http.js";
import { previewEventSchema, previewSchema } from "./preview.js";
import { createWebhookRequestSchema } from "./webhook-create.js";

// The OpenAPI 3.1 description of the HTTP API. Request bodies and query parameters are generated from the
// zod schemas the routes validate with, so the document cannot drift from what the gateway accepts.

type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;

/** The JSON Schema (2020-12, the dialect of OpenAPI 3.1) of what a request may send for this zod schema. */
export function requestSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12" });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: JsonSchema, required = true) => ({ required, content: { "application/json": { schema } } });
const jsonReply = (description: string, schema: JsonSchema = { type: "object" }) => ({
  description,
  content: { "application/json": { schema } },
});
const healthSchema = (status: string, database: string) => ({
  type: "object",
  required: ["status", "database"],
  properties: { status: { const: status }, database: { const: database } },
});
const listOf = (item: string) => ({
  type: "object",
  required: ["data", "next_cursor"],
  properties: { data: { type: "array", items: ref(item) }, next_cursor: { type: ["string", "null"] } },
});

/** Query parameters, one per property of a zod object schema. */
function queryParameters(...schemas: z.ZodType[]) {
  return schemas.flatMap((schema) => {
    const { properties = {} } = requestSchema(schema) as { properties?: Record<string, JsonSchema> };
    return Object.entries(properties).map(([name, property]) => ({ name, in: "query", required: false, schema: property }));
  });
}

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

function errors(...statuses: ErrorStatus[]) {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: `#/components/responses/Error${status}` }]));
}

function op(summary: string, responses: Record<string, unknown>, extra: Operation = {}): Operation {
  return { summary, ...extra, responses };
}

// Every /api route checks the token and the body's size (ADMIN_BODY_LIMIT) before it runs, whatever its method.
const admin = (tag: string, summary: string, responses: Record<string, unknown>, extra: Operation = {}) =>
  op(summary, { ...responses, ...errors(401, 413, 429, 503) }, { tags: [tag], ...extra });

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

function paths() {
  const webhookBody = requestSchema(createWebhookRequestSchema);
  return {
    "/api/sources": {
      get: admin("sources", "List sources (secrets masked)", { 200: jsonReply("Sources", listOf("Source")) }),
      post: admin("sources", "Create a source; the answer shows its secret, once", {
        201: jsonReply("The source, with its secret and ingest URL", ref("Source")),
        ...errors(400, 415),
      }, { requestBody: jsonBody(requestSchema(createSourceSchema)) }),
    },
    "/api/sources/{id}": {
      parameters: [ID],
      get: admin("sources", "One source", { 200: jsonReply("The source", ref("Source")), ...errors(404) }),
      patch: admin("sources", "Change a source", { 200: jsonReply("The source", ref("Source")), ...errors(400, 404, 415) }, {
        requestBody: jsonBody(requestSchema(patchSourceSchema)),
      }),
      delete: admin("sources", "Delete a source; not while a webhook rule names it (409 naming the rules)", {
        204: { description: "Deleted" },
        ...errors(404, 409),
      }),
    },
    "/api/webhooks": {
      get: admin("webhooks", "List webhook rules (secrets masked)", { 200: jsonReply("Rules", listOf("Webhook")) }),
      post: admin("webhooks", "Create a webhook rule", { 201: jsonReply("The rule, with its signing secret, once", ref("Webhook")), ...errors(400, 415, 422) }, {
        description:
          "A custom rule (no `preset`) names `events` and `url`; with `preset`, the preset fills in `events`, `url`, the payload and more, and any field given overrides it.",
        requestBody: jsonBody(webhookBody),
      }),
    },
    "/api/webhooks/{id}": {
      parameters: [ID],
      get: admin("webhooks", "One webhook rule", { 200: jsonReply("The rule", ref("Webhook")), ...errors(404) }),
      patch: admin("webhooks", "Change the fields named", { 200: jsonReply("The rule", ref("Webhook")), ...errors(400, 404, 415, 422) }, {
        requestBody: jsonBody(requestSchema(patchWebhookSchema)),
      }),
      delete: admin("webhooks", "Delete a webhook rule", { 204: { description: "Deleted" }, ...errors(404) }),
    },
    "/api/webhooks/{id}/preview": {
      parameters: [ID],
      post: admin("webhooks", "Render the rule's request for an event without sending it", {
        200: jsonReply("The exact request, secrets masked", ref("Preview")),
        ...errors(400, 404, 415, 422),
      }, { requestBody: jsonBody(requestSchema(previewEventSchema.strict()), false) }),
    },
    "/api/webhooks/{id}/test": {
      parameters: [ID],
      post: admin("webhooks", "Send a sample (or given) event through the rule now", {
        202: jsonReply("The delivery created", ref("Delivery")),
        ...errors(400, 404, 415),
      }, { requestBody: jsonBody(requestSchema(previewEventSchema.strict()), false) }),
    },
    "/api/preview": {
      post: admin("webhooks", "Render an unsaved rule's request for an event", {
        200: jsonReply("The exact request, secrets masked", ref("Preview")),
        ...errors(400, 404, 415, 422),
      }, { requestBody: jsonBody(requestSchema(previewSchema)) }),
    },
    "/api/samples": {
      get: admin("events", "A sample event of each source kind", { 200: jsonReply("Samples", listOf("Object")) }),
    },
    "/api/presets": {
      get: admin("presets", "CRM presets and the settings they need", { 200: jsonReply("Presets", listOf("Object")) }),
    },
    "/api/presets/{id}": {
      parameters: [ID],
      get: admin("presets", "One preset", { 200: jsonReply("The preset"), ...errors(404) }),
    },
    "/api/events": {
      get: admin("events", "List events, newest first", { 200: jsonReply("Events", listOf("Event")), ...errors(400) }, {
        parameters: queryParameters(eventFilterSchema, pageSchema),
      }),
    },
    "/api/events/{id}": {
      parameters: [ID],
      get: admin("events", "One event, canonical and raw, with its deliveries", { 200: jsonReply("The event", ref("Event")), ...errors(404) }),
    },
    "/api/deliveries": {
      get: admin("deliveries", "List deliveries, newest first", { 200: jsonReply("Deliveries", listOf("Delivery")), ...errors(400) }, {
        parameters: queryParameters(deliveryFilterSchema, pageSchema),
      }),
    },
    "/api/deliveries/{id}": {
      parameters: [ID],
      get: admin("deliveries", "One delivery with every attempt", { 200: jsonReply("The delivery", ref("Delivery")), ...errors(404) }),
    },
    "/api/deliveries/{id}/retry": {
      parameters: [ID],
      post: admin("deliveries", "Send a delivery now, with a fresh retry budget: a finished one again, a pending one without waiting for its next attempt; 409 while it is being sent", {
        202: jsonReply("The delivery, pending and due now", ref("Delivery")),
        ...errors(404, 409, 422),
      }),
    },
    "/ingest/{sourceId}": {
      post: op("Where a PBX posts its call events", {
        202: jsonReply("Committed: the event id (the first one's for a repeat) and how many deliveries it made", {
          anyOf: [ref("Accepted"), { type: "object", required: ["events"], properties: { events: { type: "array", items: ref("Accepted") } } }],
        }),
        ...errors(400, 401, 403, 404, 413, 415, 429, 503),
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
        200: jsonReply("Up", healthSchema("ok", "ok")),
        503: jsonReply("The database did not answer (why is logged)", healthSchema("unavailable", "unavailable")),
      }, { tags: ["operations"], security: [] }),
    },
    "/metrics": {
      get: op("Prometheus metrics (text exposition format 0.0.4)", {
        200: { description: "Metrics", content: { "text/plain": { schema: { type: "string" } } } },
        ...errors(401),
      }, {
        tags: ["operations"],
        description: "Open unless `METRICS_TOKEN` is set; then it needs `Authorization: Bearer <metrics token>`.",
        security: [{}, { metricsToken: [] }],
      }),
    },
    "/openapi.json": {
      get: op("This document", { 200: jsonReply("OpenAPI 3.1") }, { tags: ["operations"], security: [] }),
    },
  };
}

function components() {
  const object = (description: string) => ({ type: "object", description });
  return {
    schemas: {
      Error: {
        type: "object",
        required: ["error"],
        properties: {
          error: {
            type: "object",
            required: ["code", "message"],
            properties: {
              code: { type: "string" },
              message: { type: "string" },
              details: { description: "For invalid input: `[{field, message}]`" },
            },
          },
        },
      },
      Accepted: {
        type: "object",
        required: ["event_id", "deliveries"],
        properties: { event_id: { type: "string" }, deliveries: { type: "integer" }, duplicate: { type: "boolean" } },
      },
      Source: object("A source: id, name, kind, secret (masked after creation), enabled, ingest_url, times"),
      Webhook: object("A webhook rule as created, with id and times; secrets masked after creation"),
      Preview: object(
        "{transport, method, url, headers, body, matches, warnings, event_id}: the exact request, secrets masked, and what a receiver would " +
          "likely refuse (`warnings`: a body that is not the JSON its Content-Type says); for an SQS rule `url` is the queue, " +
          "`body` the message body and `sqs` {message_attributes, message_group_id, message_deduplication_id}",
      ),
      Event: object("The canonical call event, with received_at (and raw and deliveries for one event)"),
      Delivery: object("A delivery: status, request, attempt_count, last_status_code, last_error (and attempts for one)"),
      Object: { type: "object" },
    },
    responses: Object.fromEntries(
      Object.entries(ERROR_STATUSES).map(([status, description]) => [`Error${status}`, jsonReply(description, ref("Error"))]),
    ),
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

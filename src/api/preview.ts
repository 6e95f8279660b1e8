import { Hono } from "hono";
import { z } from "zod";
import { isoAt } from "../clock.js";
import { EVENT_TYPES, type CanonicalEvent } from "../domain/event.js";
import { found, GatewayError, invalidField } from "../domain/errors.js";
import { SAMPLE_EVENT } from "../domain/sample-event.js";
import type { Webhook } from "../domain/webhook.js";
import { renderRuleRequest, unmatchedField } from "../delivery/plan.js";
import { attemptHeaders, withHeaders } from "../delivery/attempt-headers.js";
import { withRuleCredentials } from "../delivery/rule-credentials.js";
import { messageAttributes, sendMessageInput } from "../delivery/sqs.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { headerValue } from "../domain/headers.js";
import { maskHeaders } from "../domain/mask.js";
import { ExpressionError } from "../render/jsonata.js";
import { RenderError } from "../render/request.js";
import { authOf } from "../presets/auth.js";
import { presetById } from "../presets/registry.js";
import { eventOfPayload, SAMPLE_IDS, SAMPLE_SOURCE_ID, sampleEvent } from "../sources/samples.js";
import { canonicalOf } from "../store/events.js";
import type { AppDeps } from "./deps.js";
import { readBody } from "./json-body.js";
import { ruleFromInput } from "./rules.js";
import type { PreviewView } from "./view-schemas.js";
import { requestView } from "./views.js";

/**
 * Which event to preview against: one given inline, a stored one, the sample of a source kind
 * (`GET /api/samples`), or, when none is given, the built-in canonical sample.
 */
export const previewEventSchema = z.object({
  event: z.unknown().optional(),
  event_id: z.string().max(64).optional(),
  sample: z.enum(SAMPLE_IDS).optional(),
});

/** The source_id of an event given inline, which came from no source. */
const INLINE_SOURCE_ID = "preview";

/** The ways of naming the event; at most one may be given. */
const EVENT_CHOICES = ["event", "event_id", "sample"] as const;

/** The canonical event of an inline payload, as if the canonical source had received it. */
function eventFromPayload(payload: unknown, nowIso: string, origin: { event_id: string; source_id: string }) {
  if (Array.isArray(payload)) throw invalidField("event", "give one event, not an array");
  return eventOfPayload("canonical", payload, nowIso, origin);
}

export async function previewEvent(
  deps: AppDeps,
  input: z.output<typeof previewEventSchema>,
): Promise<CanonicalEvent> {
  const given = EVENT_CHOICES.filter((name) => input[name] !== undefined && input[name] !== null && input[name] !== "");
  if (given.length > 1) throw invalidField(given[1], `give only one of event, event_id or sample (got ${given.join(" and ")})`);
  if (input.event_id) return canonicalOf(found(await deps.store.events.get(input.event_id), "event", input.event_id));
  const now = isoAt(deps.clock.now());
  if (input.sample) return sampleEvent(input.sample, now).event;
  return eventFromPayload(input.event ?? SAMPLE_EVENT, now, { event_id: "evt_preview", source_id: INLINE_SOURCE_ID });
}

/** The idempotency key a preview shows where a delivery's id will be. */
const PREVIEW_ID = "dlv_preview";

/** An SQS message as a preview shows it: the queue, the body, and the attributes, group and deduplication id of an attempt. */
function messageView(request: RenderedRequest, headers: Record<string, string>) {
  const attributes = messageAttributes(headers);
  const input = sendMessageInput(request, attributes, PREVIEW_ID);
  const sqs = {
    message_attributes: maskHeaders(attributes),
    message_group_id: input.MessageGroupId ?? null,
    message_deduplication_id: input.MessageDeduplicationId ?? null,
  };
  return { transport: "sqs" as const, ...requestView(request), sqs };
}

/**
 * What the receiver will likely refuse although the request renders: a body that is not the JSON its
 * Content-Type says (`{"a": {{src}}}` leaves a phone number unquoted, `{"m": {{bill_duration}} }` nothing for an
 * unanswered call). Sent all the same: the rule may mean it.
 */
function warningsOf(request: RenderedRequest, headers: Record<string, string>): string[] {
  const contentType = headerValue(headers, "content-type") ?? "";
  if (request.body === null || request.sqs || !/json/i.test(contentType)) return [];
  try {
    JSON.parse(request.body);
    return [];
  } catch {
    return [`the body is not valid JSON, though its Content-Type is ${contentType}: a value may need quotes ("{{x}}"), or a default where it renders nothing ({{default x 0}})`];
  }
}

/** The exact request the rule would send for the event, with the headers (or SQS attributes) of an attempt; secrets masked. */
export async function preview(deps: AppDeps, webhook: Webhook, event: CanonicalEvent): Promise<PreviewView> {
  try {
    // Credentials as an attempt fills them in, to be shown masked as the rule shows them.
    const request = withRuleCredentials(await renderRuleRequest(webhook, event, deps.partials), webhook);
    // What the preset adds when sending, masked, where its `prepare` would put it.
    const presetHeaders = authOf(presetById(webhook.preset)).previewHeaders ?? {};
    const prepared = { ...request, headers: withHeaders(request.headers, presetHeaders) };
    const headers = await attemptHeaders(prepared, webhook, PREVIEW_ID, deps.clock.now());
    // An event from no source (a sample, one given inline) is taken as from one of the rule's sources.
    const unsourced = event.source_id === INLINE_SOURCE_ID || event.source_id === SAMPLE_SOURCE_ID;
    const unmatched = await unmatchedField({ ...webhook, source_ids: unsourced ? [] : webhook.source_ids }, event);
    const shown = request.sqs
      ? messageView(request, headers)
      : { transport: "http" as const, ...requestView({ ...request, headers }) };
    return { ...shown, matches: unmatched === null, unmatched, warnings: warningsOf(request, headers), event_id: event.event_id };
  } catch (error) {
    throw renderFailed(error);
  }
}

/** A template or expression that fails to render, as the API answers it: 422 naming the field; another error as it is. */
export function renderFailed(error: unknown): unknown {
  const field = error instanceof RenderError ? error.field : error instanceof ExpressionError ? "filter" : null;
  if (field === null) return error;
  const problem = error instanceof RenderError ? error.problem : (error as Error).message;
  return new GatewayError(422, "render_failed", (error as Error).message, [{ field, message: problem }]);
}

export const previewSchema = previewEventSchema.extend({ webhook: z.record(z.string(), z.unknown()) }).strict();

/** `POST /api/preview`: a rule that is not saved yet, rendered against an event. */
export function previewRoutes(deps: AppDeps) {
  const app = new Hono();
  app.post("/", async (c) => {
    const input = await readBody(c, previewSchema);
    // A rule being drafted need not name its events yet: it then previews as matching every type.
    const webhook = await ruleFromInput(deps, { name: "preview", events: [...EVENT_TYPES], ...input.webhook });
    return c.json(await preview(deps, webhook, await previewEvent(deps, input)));
  });
  return app;
}

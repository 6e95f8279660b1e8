import { z } from "zod";
import { DELIVERY_STATUSES, renderedRequestSchema } from "../domain/delivery.js";
import { errorDetailsSchema } from "../domain/errors.js";
import { LEFT_OUT_BY, MATCH_FIELDS } from "../domain/match.js";
import { canonicalEventSchema, sourceKindSchema } from "../domain/event.js";
import { sqsSettingsSchema } from "../domain/sqs.js";
import { webhookDisabledSchema, webhookFieldsSchema } from "../domain/webhook.js";

// The bodies the API answers, as zod schemas: the TypeScript types of the code that builds them (views.ts and
// the routes) and the response schemas of /openapi.json, one definition for both. The document gives each object
// exactly its fields (`additionalProperties: false` on zod's output side): a field added to an answer but not
// here fails test/openapi-contract.test.ts.

/** Times shown to people: ISO 8601 in UTC. */
const time = z.iso.datetime();

/** A secret as every answer but the one that sets it shows it. */
const masked = (what: string) =>
  z.string().meta({ description: `${what}: in full only in the answer that sets it, else masked (\`****\` and its last four characters, or \`****\`)` });

/** A list: sources, rules, presets and samples whole (`next_cursor` null), events and deliveries a page at a time. */
export const listSchema = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable().meta({ description: "Pass as `?cursor=` for the next page; null on the last" }) });
export type List<T> = { data: T[]; next_cursor: string | null };

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().meta({ description: "Stable, for programs: `invalid_request`, `not_found`, `conflict`, `rate_limited`..." }),
    message: z.string().meta({ description: "For people: what is wrong and what to do" }),
    details: errorDetailsSchema.optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const sourceViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: sourceKindSchema,
  secret: masked("The source's secret"),
  enabled: z.boolean(),
  created_at: time,
  updated_at: time,
  ingest_url: z.string().meta({ description: "Where its PBX posts: this gateway's `/ingest/{id}`" }),
});
export type SourceView = z.infer<typeof sourceViewSchema>;

/** Header values whose names look like credentials (`Authorization`, `*key*`, `*token*`...) are masked. */
const maskedHeaders = z.record(z.string(), z.string()).meta({ description: "Values of credential headers masked (`Bearer ****abcd`)" });

/** A rule as shown: every field a rule has, secrets masked. */
export const webhookViewSchema = webhookFieldsSchema.required().extend({
  id: z.string(),
  url: webhookFieldsSchema.required().shape.url.meta({
    description: "Values of credentials in its query (`?api_key=****abcd`) masked, unless written with Handlebars",
  }),
  headers: maskedHeaders,
  preset_config: z.record(z.string(), z.unknown()).meta({ description: "The preset's settings (texts and flags); secret ones masked" }),
  secret: masked("The signing secret"),
  sqs: sqsSettingsSchema.extend({ secret_access_key: z.string().meta({ description: "Always masked" }) }).nullable(),
  disabled: webhookDisabledSchema
    .extend({
      at: time.meta({ description: "When it was turned off" }),
      reason: webhookDisabledSchema.shape.reason.meta({
        description: "`manual`: through the API or the console (`enabled: false`); `gone`: its receiver answered `410 Gone`",
      }),
      delivery_id: z.string().nullable().meta({ description: "For `gone`: the delivery whose attempt got that answer" }),
      status_code: z.number().int().nullable().meta({ description: "For `gone`: the status its receiver answered (410)" }),
    })
    .nullable()
    .meta({
      description:
        "When and why a disabled rule was turned off; null while it is enabled (enabling it clears this) and for a rule disabled before the gateway kept this, unless a 410 in its delivery log says why",
    }),
  created_at: time,
  updated_at: time,
});
export type WebhookView = z.infer<typeof webhookViewSchema>;

/** A rendered request as shown: credential headers and secret settings masked. */
export const requestViewSchema = renderedRequestSchema
  .omit({ secrets_mark: true, secrets_escape: true, secrets_for: true })
  .extend({
    url: renderedRequestSchema.shape.url.meta({
      description: "Values of credentials in its query (`?api_key=****`) masked; a rule's fixed one, filled in when each attempt is sent, is `****`",
    }),
    headers: maskedHeaders.meta({
      description: "Values of credential headers masked (`Bearer ****abcd`); in a delivery's request, a rule's fixed credential header, filled in as the rule has it when each attempt is sent, is `****`",
    }),
  })
  .meta({ description: "The exact request, as rendered when the delivery was created; for an SQS rule `url` is the queue and `body` the message" });
export type RequestView = z.infer<typeof requestViewSchema>;

export const attemptViewSchema = z.object({
  id: z.string(),
  delivery_id: z.string(),
  number: z.number().int(),
  started_at: time,
  duration_ms: z.number().int(),
  status_code: z.number().int().nullable(),
  response_headers: z.record(z.string(), z.string()).nullable(),
  response_body: z.string().nullable().meta({ description: "The start of the receiver's answer, secrets it echoed hidden" }),
  error: z.string().nullable(),
  note: z.string().nullable().meta({ description: "What a preset did around the send (token fetched, caller found...)" }),
});

export const deliveryViewSchema = z.object({
  id: z.string(),
  event_id: z.string(),
  webhook_id: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  request: requestViewSchema.nullable().meta({ description: "Null when the request could not be rendered (`last_error` says why)" }),
  max_attempts: z.number().int(),
  attempt_count: z.number().int(),
  next_attempt_at: time.nullable().meta({ description: "When a pending delivery is next sent; null otherwise" }),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: time,
  updated_at: time,
  delivered_at: time.nullable(),
});
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

/** One delivery, with every attempt. */
export const deliveryDetailSchema = deliveryViewSchema.extend({ attempts: z.array(attemptViewSchema) });
export type DeliveryDetail = z.infer<typeof deliveryDetailSchema>;

/** What `POST /api/webhooks/:id/recover` answers for one page of the rule's failed deliveries. */
export const recoverViewSchema = z.object({
  retried: z.number().int().meta({ description: "Failed deliveries made due now with a fresh retry budget, to be sent as a retry by hand is" }),
  render_failed: z
    .number()
    .int()
    .meta({ description: "Failed deliveries that had not been rendered and still cannot be, from the rule as it is now: they stay failed" }),
  more: z.boolean().meta({ description: "More failed deliveries of the window are left: call again with `cursor` set to `next_cursor`" }),
  next_cursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null when `more` is false" }),
});
export type RecoverView = z.infer<typeof recoverViewSchema>;

/** What `POST /api/webhooks/:id/replay-missing` answers for one page of events. */
export const replayViewSchema = z.object({
  replayed: z.number().int().meta({ description: "Deliveries made of events the rule missed, to be sent as ingest's are" }),
  render_failed: z
    .number()
    .int()
    .meta({ description: "Deliveries made of missed events that cannot be rendered from the rule as it is now: recorded failed, as at ingest" }),
  more: z.boolean().meta({ description: "More events of the window are left to look at: call again with `cursor` set to `next_cursor`" }),
  next_cursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null when `more` is false" }),
});
export type ReplayView = z.infer<typeof replayViewSchema>;

/** An event in lists: the canonical event without the raw payload. */
export const eventSummarySchema = canonicalEventSchema.omit({ raw: true }).extend({ received_at: time });
export type EventSummary = z.infer<typeof eventSummarySchema>;

/** The most rules an event's detail names: a gateway may have hundreds. */
export const RULES_SHOWN = 50;

/** The rules that made no delivery of an event, and what leaves the event out of each, worked out as the event is read. */
const rulesWithoutDeliverySchema = z
  .object({
    rules: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        unmatched: z
          .enum(LEFT_OUT_BY)
          .nullable()
          .meta({
            description:
              "The rule's field that leaves the event out, the first in this order (the filter also when it fails on the event); `disabled` when only being disabled does; null when the rule as it is now takes the event (made or changed since it came in)",
          }),
        since_event: z
          .enum(["made", "changed"])
          .nullable()
          .meta({
            description:
              "`made` or `changed` when the rule was made or last saved after the event came in, so `unmatched` is the rule's answer now and may not be why it made no delivery then; null when it is unchanged since, so `unmatched` is why",
          }),
      }),
    ),
    more: z.number().int().meta({ description: `How many more rules made no delivery of it, past the ${RULES_SHOWN} listed` }),
  })
  .meta({
    description:
      "The rules that made no delivery of this event, each with what leaves the event out: worked out when the event is read, against the rules as they are now, " +
      "each saying whether it was made or changed since the event came in (a deleted rule is not listed). The nearest first (null, then `disabled`, `filter`, `source_ids`, `call_types`, " +
      `\`events\`), at most ${RULES_SHOWN}`,
  });
export type RulesWithoutDelivery = z.infer<typeof rulesWithoutDeliverySchema>;

/** One event: canonical and raw side by side, with its deliveries, and why the other rules made none. */
export const eventDetailSchema = eventSummarySchema.extend({
  raw: z.unknown().meta({ description: "The PBX's payload exactly as received" }),
  deliveries: z.array(deliveryViewSchema),
  rules_without_delivery: rulesWithoutDeliverySchema,
});
export type EventDetail = z.infer<typeof eventDetailSchema>;

const previewOutcome = {
  matches: z.boolean().meta({ description: "Whether the rule would take this event (its events, call types, sources and filter)" }),
  unmatched: z
    .enum(MATCH_FIELDS)
    .nullable()
    .meta({ description: "The rule's field that leaves the event out, the first in this order (null when it matches): why it would not be sent" }),
  warnings: z.array(z.string()).meta({ description: "What a receiver would likely refuse: a body that is not the JSON its Content-Type says" }),
  event_id: z.string(),
};

/** What a preview shows: the exact request (or SQS message) of an attempt, secrets masked, and what to look at. */
export const previewViewSchema = z.discriminatedUnion("transport", [
  requestViewSchema.omit({ sqs: true }).extend({ transport: z.literal("http"), ...previewOutcome }),
  requestViewSchema.extend({
    transport: z.literal("sqs"),
    sqs: z.object({
      message_attributes: maskedHeaders,
      message_group_id: z.string().nullable(),
      message_deduplication_id: z.string().nullable(),
    }),
    ...previewOutcome,
  }),
]);
export type PreviewView = z.infer<typeof previewViewSchema>;

/** What an ingest answers for one event. */
export const acceptedViewSchema = z.object({
  event_id: z.string().meta({ description: "The stored event's id; for a repeat of one already stored, the first one's" }),
  deliveries: z.number().int().meta({ description: "How many deliveries it made" }),
  duplicate: z.literal(true).optional().meta({ description: "Present when the PBX had sent this event before: nothing new was stored" }),
});
export type AcceptedView = z.infer<typeof acceptedViewSchema>;

/** What an ingest of an array of canonical events answers: one entry per event, in order. */
export const acceptedBatchSchema = z.object({ events: z.array(acceptedViewSchema) });

export const healthySchema = z.object({ status: z.literal("ok"), database: z.literal("ok") });
export const unhealthySchema = z.object({ status: z.literal("unavailable"), database: z.literal("unavailable") });
export type Health = z.infer<typeof healthySchema> | z.infer<typeof unhealthySchema>;

import { z } from "zod";
import { ID_PREFIX, idPattern } from "./ids.js";

/** pending -> delivering -> delivered | failed (retries exhausted or not retryable: the dead-letter list). */
export const DELIVERY_STATUSES = ["pending", "delivering", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** A delivery in these states is not finished: it is still to be sent, or being sent. */
export const UNFINISHED_STATUSES: DeliveryStatus[] = ["pending", "delivering"];

/** Deliveries waiting in the outbox, counted by the store (metrics read it at scrape time). */
export interface QueueDepth {
  pending: number;
  /** Pending deliveries whose time has come: the backlog. */
  due: number;
  delivering: number;
}

/** `GET /api/deliveries`'s filters. */
export const deliveryFilterSchema = z.object({
  webhook_id: z.string().max(64).optional(),
  event_id: z.string().max(64).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
}).strict();
export type DeliveryFilter = z.output<typeof deliveryFilterSchema>;

/** RFC 3339 with its offset (`Z` or `+02:00`): a time without one would be read in whichever zone the runtime has. */
const instant = z.iso.datetime({
  offset: true,
  // One left out is `is required`, as elsewhere.
  error: (issue) => (issue.input === undefined ? undefined : "must be an RFC 3339 time with its offset, such as 2026-11-20T12:00:00Z"),
});

/** `until`, when given, must come after `since`: an empty or backward window is a mistake, not "nothing". */
function untilAfterSince(window: { since: string; until?: string }, context: z.RefinementCtx): void {
  if (window.until !== undefined && Date.parse(window.until) <= Date.parse(window.since)) {
    context.addIssue({ code: "custom", path: ["until"], message: "must be after since" });
  }
}

/** The cursor of a windowed page: an id of what the pages go through. Anything else would be compared with ids as text and end the pages early, saying there was nothing more. */
const cursorOf = (prefix: string, what: string) =>
  z
    .string()
    .regex(idPattern(prefix), `must be the previous answer's next_cursor, ${what} (${prefix}_...)`)
    .optional()
    .meta({ description: "The previous answer's `next_cursor`: go on after what it went through" });

/**
 * `POST /api/webhooks/:id/recover`: which of the rule's failed deliveries to retry, by when they were created
 * (`since` up to, not including, `until`, if given), and where the previous page ended.
 */
export const recoverRequestSchema = z
  .object({
    since: instant.meta({ description: "Retry failed deliveries created at or after this time (RFC 3339), e.g. when the receiver went down" }),
    until: instant.optional().meta({ description: "...and before this time (RFC 3339); left out, up to now" }),
    cursor: cursorOf(ID_PREFIX.delivery, "a delivery id"),
  })
  .strict()
  .superRefine(untilAfterSince);
export type RecoverRequest = z.output<typeof recoverRequestSchema>;

/**
 * `POST /api/webhooks/:id/replay-missing`: which events to send the rule that it has no delivery of, by when
 * they were received (`since` up to, not including, `until`, if given), and where the previous page ended.
 */
export const replayRequestSchema = z
  .object({
    since: instant.meta({ description: "Send events received at or after this time (RFC 3339), e.g. when the rule was turned off" }),
    until: instant.optional().meta({ description: "...and before this time (RFC 3339); left out, up to now" }),
    cursor: cursorOf(ID_PREFIX.event, "an event id"),
  })
  .strict()
  .superRefine(untilAfterSince);
export type ReplayRequest = z.output<typeof replayRequestSchema>;

/** A recover or replay request's window in epoch ms, and the id its previous page ended at (`after`). */
export interface RequestWindow {
  sinceMs: number;
  untilMs?: number;
  after?: string;
}

/** Epoch ms of an RFC 3339 time; before 1970 is 1970, where ids start. */
const msOf = (time: string) => Math.max(0, Date.parse(time));

/** The window of a recover or replay request (validated by its schema above). */
export function windowOf(request: { since: string; until?: string; cursor?: string }): RequestWindow {
  return { sinceMs: msOf(request.since), untilMs: request.until === undefined ? undefined : msOf(request.until), after: request.cursor };
}

/** Present when a request is an SQS message. */
const sqsMessageSchema = z.object({
  /** MessageGroupId, rendered with the body; null when the message is sent without one (a standard queue). */
  message_group_id: z.string().nullable(),
});

/** The exact request a delivery sends, rendered once when the delivery is created. */
export const renderedRequestSchema = z.object({
  method: z.enum(["GET", "POST", "PUT", "PATCH"]),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  /** The exact bytes sent, as text; null for GET. */
  body: z.string().nullable(),
  /** Facts a preset needs when sending (e.g. the phone to look the caller up by); never sent as such. */
  meta: z.record(z.string(), z.string()).optional(),
  /** The mark of the secret placeholders this request was rendered with (see presets/secrets.ts). */
  secrets_mark: z.string().optional(),
  /** How the body's values were escaped when rendered, so a secret filled in later is escaped alike. */
  secrets_escape: z.enum(["html", "json", "url", "none"]).optional(),
  /** The rule's destination when rendered (delivery/destination.ts): secrets are filled in only while it is the rule's. */
  secrets_for: z.string().optional(),
  /**
   * Present when the request is an SQS message: `url` is the queue, `body` the message body, `headers` empty.
   * The credentials, the attributes and the deduplication id are added per attempt.
   */
  sqs: sqsMessageSchema.optional(),
});
export type RenderedRequest = z.infer<typeof renderedRequestSchema>;

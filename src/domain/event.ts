import { z } from "zod";

/** Canonical event types (DESIGN.md). `unmapped` marks a payload no adapter understood: stored, never delivered. */
export const EVENT_TYPES = [
  "call.start",
  "call.ringing",
  "call.answer",
  "call.update",
  "call.end",
  "call.report",
  "ivr.start",
  "ivr.end",
  "voicemail",
  "recording",
] as const;
export const eventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof eventTypeSchema>;
const storedEventTypeSchema = z.enum([...EVENT_TYPES, "unmapped"]);
export type StoredEventType = z.infer<typeof storedEventTypeSchema>;

export const DIRECTIONS = ["inbound", "outbound", "internal"] as const;
export const directionSchema = z.enum(DIRECTIONS);
export type Direction = z.infer<typeof directionSchema>;

export const CALL_STATUSES = ["ringing", "answered", "busy", "no_answer", "canceled", "failed", "voicemail"] as const;
export const HANGUP_CAUSES = ["ANSWERED", "BUSY", "NO_ANSWER", "CANCELED", "FAILED"] as const;
export const SOURCE_KINDS = ["canonical", "wildix", "voipcloud", "voipappz"] as const;
export const sourceKindSchema = z.enum(SOURCE_KINDS);
export type SourceKind = z.infer<typeof sourceKindSchema>;

const isoTime = z.iso.datetime({ offset: true });
const seconds = z.number().int().nonnegative();
const text = z.string().max(2048);

const agentSchema = z.object({
  name: text.nullable().default(null),
  extension: text.nullable().default(null),
  email: text.nullable().default(null),
});
export type Agent = z.infer<typeof agentSchema>;

/** The call facts every source normalizes into; the fields a template, param map or filter sees. */
export const callFieldsSchema = z.object({
  uniqueid: z.string().min(1).max(256),
  occurred_at: isoTime,
  direction: directionSchema.nullable().default(null),
  status: z.enum(CALL_STATUSES).nullable().default(null),
  src: text.nullable().default(null),
  dst: text.nullable().default(null),
  caller_id_number: text.nullable().default(null),
  caller_name: text.nullable().default(null),
  did: text.nullable().default(null),
  start_at: isoTime.nullable().default(null),
  answer_at: isoTime.nullable().default(null),
  end_at: isoTime.nullable().default(null),
  duration: seconds.nullable().default(null),
  bill_duration: seconds.nullable().default(null),
  bridged: z.boolean().nullable().default(null),
  hangup_cause: z.enum(HANGUP_CAUSES).nullable().default(null),
  hangup_cause_code: text.nullable().default(null),
  hangup_initiator: z.enum(["caller", "callee", "system"]).nullable().default(null),
  public_recording: z.url({ protocol: /^https?$/ }).nullable().default(null),
  leadid: text.nullable().default(null),
  queue_name: text.nullable().default(null),
  ring_group_name: text.nullable().default(null),
  ivr_name: text.nullable().default(null),
  agent: agentSchema.nullable().default(null),
  tags: z.array(text).max(100).default([]),
});
export type CallFields = z.infer<typeof callFieldsSchema>;

/** A source adapter's output: the call facts plus what identifies the PBX event for deduplication. */
export interface NormalizedEvent extends CallFields {
  type: StoredEventType;
  /** Stable identity of the PBX event, so that a PBX retry is stored once. */
  dedupe_key: string;
  /** The PBX payload of this event exactly as received. */
  raw: unknown;
  /** The new state of this event's call, for adapters that keep some between events. */
  call_state?: CallState;
}

/** What the gateway remembers of a call between its events, for PBXs that send times piecemeal (Wildix). */
export interface CallState {
  start_at?: string | null;
  answer_at?: string | null;
  direction?: Direction | null;
}

/** The `source_id` of an event sent through one rule by hand (Send test event): no PBX's, never replayed. */
export const TEST_SOURCE_ID = "test";

/** The canonical call event (DESIGN.md): the evaluation context of filters, params and templates. */
export const canonicalEventSchema = callFieldsSchema.extend({
  event_id: z.string(),
  type: storedEventTypeSchema,
  source: sourceKindSchema,
  source_id: z.string(),
  /** The PBX payload exactly as received. */
  raw: z.unknown(),
});
export type CanonicalEvent = z.output<typeof canonicalEventSchema>;

/** A normalized PBX event as the canonical event of a source. */
export function canonicalEvent(
  normalized: NormalizedEvent,
  origin: { event_id: string; source: SourceKind; source_id: string },
): CanonicalEvent {
  const { dedupe_key: _key, call_state: _state, raw, type, ...fields } = normalized;
  return { event_id: origin.event_id, type, source: origin.source, source_id: origin.source_id, ...fields, raw };
}

/** `GET /api/events`'s filters. */
export const eventFilterSchema = z.object({
  type: z.string().max(64).optional(),
  source_id: z.string().max(64).optional(),
  uniqueid: z.string().max(256).optional(),
}).strict();
export type EventFilter = z.output<typeof eventFilterSchema>;

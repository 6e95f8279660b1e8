import { z } from "zod";
import { callFieldsSchema, EVENT_TYPES, type CallFields, type NormalizedEvent, type StoredEventType } from "../domain/event.js";
import { GatewayError, parseWith } from "../domain/errors.js";
import type { SourceAdapter } from "./adapter.js";
import { fingerprint } from "./values.js";
import { hasBearerOrSignature } from "./verify.js";

/** At most this many events in one canonical ingest request. */
export const MAX_BATCH_EVENTS = 1_000;

/** A canonical event as a PBX or script posts it: the canonical fields, an optional own id, extra fields kept in `raw`. */
export const canonicalInputSchema = callFieldsSchema
  .extend({
    id: z.string().min(1).max(256).optional(),
    type: z.string().min(1).max(64),
    occurred_at: callFieldsSchema.shape.occurred_at.optional(),
  })
  .loose();

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);
const CALL_FIELDS = Object.keys(callFieldsSchema.shape) as Array<keyof CallFields>;

/** The call fields of a parsed input (validated, defaults filled in) with its time, without the extras kept in `raw`. */
function callFieldsOf(input: Omit<CallFields, "occurred_at">, occurredAt: string): CallFields {
  const fields: Record<string, unknown> = {};
  for (const key of CALL_FIELDS) fields[key] = key === "occurred_at" ? occurredAt : input[key];
  return fields as CallFields;
}

/**
 * What makes an event unique, so that a retry is stored once: the PBX's own id when it gives one; otherwise its
 * type, call and time; without a time of its own, the payload itself (the receive time differs on a retry).
 */
function dedupeKeyOf(item: unknown, input: { id?: string; type: string; uniqueid: string }, ownTime: string | undefined): string {
  if (input.id !== undefined) return `id:${input.id}`;
  return `${input.type}|${input.uniqueid}|${ownTime ?? `json:${fingerprint(item)}`}`;
}

function normalizeOne(item: unknown, receivedAt: string, path: string): NormalizedEvent {
  const input = parseWith(canonicalInputSchema, item, path);
  const { id: _id, type, ...fields } = input;
  const ownTime = fields.occurred_at ?? fields.end_at ?? fields.answer_at ?? fields.start_at ?? undefined;
  const occurredAt = ownTime ?? receivedAt;
  const storedType: StoredEventType = KNOWN_TYPES.has(type) ? (type as StoredEventType) : "unmapped";
  const dedupeKey = dedupeKeyOf(item, input, ownTime);
  const call = callFieldsOf(fields, occurredAt);
  return { ...call, type: storedType, dedupe_key: dedupeKey, raw: item };
}

export const canonicalSource: SourceAdapter = {
  kind: "canonical",
  proof: "Authorization: Bearer <secret>, or x-signature: the hex HMAC-SHA256 of the body keyed by the secret",
  verify: hasBearerOrSignature,
  normalize(payload, { receivedAt }) {
    if (!Array.isArray(payload)) return [normalizeOne(payload, receivedAt, "")];
    if (payload.length === 0) throw new GatewayError(400, "invalid_request", "The array of events is empty");
    if (payload.length > MAX_BATCH_EVENTS) {
      throw new GatewayError(413, "too_many_events", `At most ${MAX_BATCH_EVENTS} events per request`);
    }
    return payload.map((item, index) => normalizeOne(item, receivedAt, `[${index}]`));
  },
};

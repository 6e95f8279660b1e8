import { callFieldsSchema, type CallState, type EventType, type NormalizedEvent } from "../domain/event.js";
import { fieldProblems, problemsText } from "../domain/errors.js";

interface Identity {
  uniqueid: string;
  occurred_at: string;
  dedupe_key: string;
  raw: unknown;
}

/** A payload no mapping applies to: stored with its raw payload, never delivered, so a PBX upgrade loses nothing. */
export function unmappedEvent(identity: Identity, note?: string): NormalizedEvent {
  const fields = callFieldsSchema.parse({ uniqueid: identity.uniqueid.slice(0, 256) || "unknown", occurred_at: identity.occurred_at });
  return { ...fields, tags: note ? [note] : [], type: "unmapped", dedupe_key: identity.dedupe_key, raw: identity.raw };
}

/**
 * A mapped event, checked against the canonical schema. Should a PBX send something the mapping did not
 * foresee, the event is kept as `unmapped` with the reason in its tags rather than refused.
 */
export function mappedEvent(type: EventType, fields: Record<string, unknown>, identity: Identity, callState?: CallState): NormalizedEvent {
  const parsed = callFieldsSchema.safeParse({ ...fields, uniqueid: identity.uniqueid, occurred_at: identity.occurred_at });
  if (!parsed.success) {
    return unmappedEvent(identity, `not mapped: ${problemsText(fieldProblems(parsed.error))}`.slice(0, 2000));
  }
  return { ...parsed.data, type, dedupe_key: identity.dedupe_key, raw: identity.raw, ...(callState ? { call_state: callState } : {}) };
}

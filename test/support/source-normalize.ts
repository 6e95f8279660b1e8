import { expect, it } from "vitest";
import { callFieldsSchema } from "../../src/domain/event.js";
import { GatewayError } from "../../src/domain/errors.js";
import type { SourceAdapter } from "../../src/sources/adapter.js";

// What the tests of a source adapter's normalize share: the context ingest gives it, and the checks every
// adapter's fixtures and refusals get.

/** When the tests' payloads arrive: an event without a time of its own occurs then. */
export const RECEIVED_AT = "2026-11-20T12:00:00.000Z";

/** Every canonical field at its empty value: what an expectation starts from. */
export const EMPTY = {
  direction: null, status: null, src: null, dst: null, caller_id_number: null, caller_name: null, did: null,
  start_at: null, answer_at: null, end_at: null, duration: null, bill_duration: null, bridged: null,
  hangup_cause: null, hangup_cause_code: null, hangup_initiator: null, public_recording: null, leadid: null,
  queue_name: null, ring_group_name: null, ivr_name: null, agent: null, tags: [],
};

/**
 * The adapter's normalize as ingest calls it, received at RECEIVED_AT with no stored call state; `one`
 * for a payload that must make exactly one event.
 */
export function normalizerOf(adapter: SourceAdapter) {
  const normalize = (payload: unknown, query: Record<string, string> = {}) =>
    adapter.normalize(payload, { receivedAt: RECEIVED_AT, query, calls: new Map() });
  const one = (payload: unknown, query: Record<string, string> = {}) => {
    const events = normalize(payload, query);
    expect(events).toHaveLength(1);
    return events[0];
  };
  return { normalize, one };
}

/** The canonical call fields of a normalized event (without type, dedupe key, raw). */
export function callFieldsOf(event: Record<string, unknown>) {
  const { type: _t, dedupe_key: _k, raw: _r, call_state: _s, ...fields } = event;
  return fields;
}

/** A test per fixture: it normalizes to its expected event, keeps the very payload as raw, and the canonical schema accepts its fields as they are. */
export function itNormalizesEachFixture(
  names: string[],
  fixture: (name: string) => unknown,
  one: (payload: unknown) => object,
  expected: Record<string, Record<string, unknown>>,
) {
  it.each(names)("%s", (name) => {
    const payload = fixture(name);
    const event = one(payload) as Record<string, unknown>;
    expect(event).toEqual({ ...expected[name], raw: payload });
    expect(event.raw).toBe(payload);
    expect(callFieldsSchema.parse(callFieldsOf(event))).toEqual(callFieldsOf(event));
  });
}

/** Fails unless `normalize` refuses with a 400 invalid_request that says one JSON object was expected. */
export function expectOneObjectRequired(normalize: () => unknown) {
  let error: unknown;
  try {
    normalize();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GatewayError);
  expect(error).toMatchObject({ status: 400, code: "invalid_request" });
  expect((error as Error).message).toContain("one JSON object");
}

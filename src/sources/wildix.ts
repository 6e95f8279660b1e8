import type { CallState, Direction, EventType, NormalizedEvent } from "../domain/event.js";
import { GatewayError } from "../domain/errors.js";
import type { NormalizeContext, SourceAdapter } from "./adapter.js";
import { outcomeOfEndCause } from "./hangup.js";
import { mappedEvent, unmappedEvent } from "./normalized.js";
import { hasBodySignature } from "./verify.js";
import { fingerprint, isoTime, isRecord, seconds, secondsBetween, text } from "./values.js";

// Wildix "Webhook integration" events (seeds/wildix-*.txt): an envelope {id, pbx, time, company, type,
// integrationId, data}. `id` names the call and is the same on its start, updates and end.

const TYPES: Record<string, EventType> = {
  "call:start": "call.start",
  "call:update": "call.update",
  "call:end": "call.end",
  "call:live:progress": "call.update",
  "call:live:completed": "call.end",
  "call:live:interrupted": "call.end",
};

/** Call states in which the parties are connected (classic events: they carry no talk time). */
const TALKING = new Set(["TALKING", "ANSWERED", "CONNECTED", "HOLD", "ONHOLD"]);

/** A live flow's own `direction`. */
const FLOW_DIRECTIONS: Record<string, Direction> = { INBOUND: "inbound", OUTBOUND: "outbound", INTERNAL: "internal" };

interface Party {
  local: boolean;
  phone: string | null;
  name: string | null;
  email: string | null;
  extension: string | null;
}

function partyOf(value: unknown): Party | null {
  if (!isRecord(value)) return null;
  return {
    local: text(value.type)?.toUpperCase() === "LOCAL",
    phone: text(value.phone),
    name: text(value.name),
    email: text(value.email),
    extension: text(value.userExtension),
  };
}

/** The legs of a `call:live:*` call, in order; none for the classic events. */
function flowsOf(envelope: Record<string, unknown>): Record<string, unknown>[] {
  const data = isRecord(envelope.data) ? envelope.data : {};
  return Array.isArray(data.flows) ? data.flows.filter(isRecord) : [];
}

/** The call data: `data` itself, or for the `call:live:*` envelopes its latest flow. */
function callData(envelope: Record<string, unknown>): Record<string, unknown> {
  const data = isRecord(envelope.data) ? envelope.data : {};
  const flows = flowsOf(envelope);
  return flows.length ? { ...data, ...flows[flows.length - 1] } : data;
}

/** A millisecond field summed over the flows, or null when no flow has it. */
function totalMs(flows: Record<string, unknown>[], field: string): number | null {
  const values = flows.map((flow) => seconds(flow[field])).filter((ms) => ms !== null);
  return values.length ? values.reduce((sum, ms) => sum + ms, 0) : null;
}

const wholeSeconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 1000));

interface LiveTimes {
  startAt: string | null;
  /** Null when the flows carry no talk or connect time. */
  answered: boolean | null;
  duration: number | null;
  billDuration: number | null;
}

/**
 * What the live flows say of the call's times. They carry talk and connect times in ms, so whether the
 * call was answered comes from those: a `call.start` progress can already say HOLD with no talk at all.
 */
function liveTimesOf(data: Record<string, unknown>, flows: Record<string, unknown>[]): LiveTimes {
  const talk = totalMs(flows, "talkTime");
  return {
    startAt: isoTime(data.start) ?? isoTime(flows[0]?.startTime),
    // Talk time alone says the parties spoke: connect and wait times add up with it to the duration, so
    // they are the time before the answer (ringing, queueing), which an unanswered call has too.
    answered: talk === null ? null : talk > 0,
    duration: wholeSeconds(totalMs(flows, "duration")),
    billDuration: wholeSeconds(talk),
  };
}

/** Caller REMOTE: inbound; caller LOCAL and callee REMOTE: outbound; both LOCAL: internal. */
function directionOf(caller: Party | null, callee: Party | null, destination: string | null): Direction | null {
  if (!caller) return null;
  if (!caller.local) return "inbound";
  if (callee) return callee.local ? "internal" : "outbound";
  // Before the callee is known: dialling an extension is internal, a phone number outbound.
  if (!destination) return null;
  return /^\d{1,6}$/.test(destination) ? "internal" : "outbound";
}

function agentOf(direction: Direction | null, caller: Party | null, callee: Party | null) {
  const local = direction === "inbound" ? callee : caller?.local ? caller : callee?.local ? callee : null;
  if (!local || !local.local) return null;
  return { name: local.name, extension: local.extension ?? local.phone, email: local.email };
}

function initiatorOf(endBy: string | null, ended: boolean) {
  if (endBy === "CALLER") return "caller";
  if (endBy === "CALLEE") return "callee";
  return ended ? "system" : null;
}

function normalizeEnvelope(envelope: Record<string, unknown>, context: NormalizeContext): NormalizedEvent {
  const wildixType = text(envelope.type);
  const uniqueid = text(envelope.id) ?? "unknown";
  const occurredAt = isoTime(envelope.time) ?? context.receivedAt;
  // Wildix retries a request it got no 2xx for with the same bytes. Its id, type and time alone do not name
  // an event: a call's start and first updates can share one `time`, so what `data` says is part of the key.
  const identity = {
    uniqueid,
    occurred_at: occurredAt,
    dedupe_key: `${uniqueid}|${wildixType}|${String(envelope.time)}|${fingerprint(envelope.data ?? null)}`,
    raw: envelope,
  };
  const type = wildixType ? TYPES[wildixType] : undefined;
  if (!type) return unmappedEvent(identity);

  const data = callData(envelope);
  const flows = flowsOf(envelope);
  const live = flows.length ? liveTimesOf(data, flows) : null;
  const prior = context.calls.get(uniqueid) ?? {};
  const caller = partyOf(data.caller);
  const callee = partyOf(data.callee);
  const destination = text(data.destination);
  // A live flow names its direction: it knows an internal call to a number the parties alone would call outbound.
  const flowDirection = live ? FLOW_DIRECTIONS[text(data.direction)?.toUpperCase() ?? ""] : undefined;
  const direction = flowDirection ?? directionOf(caller, callee, destination) ?? prior.direction ?? null;
  const talking = live?.answered ?? TALKING.has(text(data.status)?.toUpperCase() ?? "");

  const startAt = live?.startAt ?? prior.start_at ?? occurredAt;
  const answerAt = prior.answer_at ?? (talking ? occurredAt : null);
  const ended = type === "call.end";
  const endCause = text(data.endCause);
  const endBy = text(data.endBy)?.toUpperCase() ?? null;
  const outcome = ended
    ? outcomeOfEndCause(endCause, answerAt !== null, endBy === "CALLER")
    : { status: answerAt ? "answered" : "ringing", hangup_cause: null };
  // The first update in which the parties talk is the answer.
  const canonicalType = type === "call.update" && talking && !prior.answer_at ? "call.answer" : type;

  const fields = {
    direction,
    ...outcome,
    src: caller?.phone ?? null,
    dst: callee?.phone ?? destination,
    caller_id_number: caller?.phone ?? null,
    caller_name: caller?.name ?? null,
    did: direction === "inbound" ? destination : null,
    start_at: startAt,
    answer_at: answerAt,
    end_at: ended ? occurredAt : null,
    duration: live?.duration ?? (ended ? secondsBetween(startAt, occurredAt) : null),
    bill_duration: live?.billDuration ?? (ended ? (answerAt ? secondsBetween(answerAt, occurredAt) : 0) : null),
    bridged: answerAt !== null,
    hangup_cause_code: endCause,
    hangup_initiator: initiatorOf(endBy, ended),
    queue_name: text(data.queueName),
    agent: agentOf(direction, caller, callee),
    tags: Array.isArray(data.tags) ? data.tags.map((tag) => text(tag)).filter((tag) => tag !== null) : [],
  };
  const state: CallState = { start_at: startAt, answer_at: answerAt, direction };
  return mappedEvent(canonicalType, fields, identity, state);
}

export const wildixSource: SourceAdapter = {
  kind: "wildix",
  proof: "x-signature: the hex HMAC-SHA256 of the body keyed by the secret (the one Wildix generated)",
  verify: hasBodySignature,
  callIds(payload) {
    const id = isRecord(payload) ? text(payload.id) : null;
    return id ? [id] : [];
  },
  normalize(payload, context) {
    if (!isRecord(payload)) {
      throw new GatewayError(400, "invalid_request", "A Wildix event is one JSON object: {id, time, type, data}");
    }
    return [normalizeEnvelope(payload, context)];
  },
};

import type { CallState, Direction, EventType, NormalizedEvent } from "../domain/event.js";
import { GatewayError } from "../domain/errors.js";
import type { NormalizeContext, SourceAdapter } from "./adapter.js";
import { outcomeOfEndCause } from "./hangup.js";
import { mappedEvent, unmappedEvent } from "./normalized.js";
import { hasBodySignature } from "./verify.js";
import { fingerprint, isoTime, isRecord, secondsBetween, text } from "./values.js";

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

/** Call states in which the parties are connected. */
const TALKING = new Set(["TALKING", "ANSWERED", "CONNECTED", "HOLD", "ONHOLD"]);

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

/** The call data: `data` itself, or for the `call:live:*` envelopes its latest flow. */
function callData(envelope: Record<string, unknown>): Record<string, unknown> {
  const data = isRecord(envelope.data) ? envelope.data : {};
  const flows = Array.isArray(data.flows) ? data.flows.filter(isRecord) : [];
  return flows.length ? { ...data, ...flows[flows.length - 1] } : data;
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
  const prior = context.calls.get(uniqueid) ?? {};
  const caller = partyOf(data.caller);
  const callee = partyOf(data.callee);
  const destination = text(data.destination);
  const direction = directionOf(caller, callee, destination) ?? prior.direction ?? null;
  const talking = TALKING.has(text(data.status)?.toUpperCase() ?? "");

  const startAt = prior.start_at ?? occurredAt;
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
    duration: ended ? secondsBetween(startAt, occurredAt) : null,
    bill_duration: ended ? (answerAt ? secondsBetween(answerAt, occurredAt) : 0) : null,
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

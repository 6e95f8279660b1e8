import { timingSafeEqual } from "../domain/crypto.js";
import type { Agent, Direction, EventType, NormalizedEvent } from "../domain/event.js";
import type { InboundRequest, NormalizeContext, SourceAdapter } from "./adapter.js";
import { IN_PROGRESS, OUTCOMES, type Outcome } from "./hangup.js";
import { mappedEvent, unmappedEvent } from "./normalized.js";
import { hasBearerOrSignature } from "./verify.js";
import { agentOf, fingerprint, hmsSeconds, httpUrl, isoTime, oneObject, plusSeconds, seconds, text } from "./values.js";

// VoIPAppz webhooks (seeds/voipappz-webhooks.txt): each webhook object is bound to one event and sends a
// JSON body the integrator fills in; the screen has only URL, method and body, so no custom headers.
// The event name is the body's `event` field or, failing that, the ingest URL's `?event=`.

/** What an event says about its call, which decides status, times and occurred_at. */
type Kind = "ringing" | "answer" | "end" | "ivr_start" | "ivr_end";

interface Mapping {
  name: string;
  type: EventType;
  kind: Kind;
}

const EVENTS: Record<string, Mapping> = {
  "call:ringing": { name: "Call:Ringing", type: "call.ringing", kind: "ringing" },
  "call:answer": { name: "Call:Answer", type: "call.answer", kind: "answer" },
  "call:hangup": { name: "Call:Hangup", type: "call.end", kind: "end" },
  "call:reporting": { name: "Call:Reporting", type: "call.report", kind: "end" },
  "ivr:start": { name: "Ivr:Start", type: "ivr.start", kind: "ivr_start" },
  "ivr:end": { name: "Ivr:End", type: "ivr.end", kind: "ivr_end" },
};

/** A `billing_duration` this large is an epoch timestamp (the seed's example shows 1733173541), not seconds. */
const EPOCH_LIKE_SECONDS = 1_000_000_000;
const DAY_SECONDS = 86_400;

/** `cause` values (the seed: answer/busy/no_answer; the rest are spellings a PBX might plausibly use). */
const CAUSES: Record<string, keyof typeof OUTCOMES> = {
  answer: "answered",
  answered: "answered",
  busy: "busy",
  no_answer: "no_answer",
  noanswer: "no_answer",
  cancel: "canceled",
  canceled: "canceled",
  cancelled: "canceled",
  failed: "failed",
  fail: "failed",
};

/** `queue_disposition` values: timeout (system timeout), abandoned (caller hung up), answer (the seed also spells it "anser"). */
const DISPOSITIONS: Record<string, keyof typeof OUTCOMES> = {
  answer: "answered",
  anser: "answered",
  answered: "answered",
  abandoned: "abandoned",
  abandon: "abandoned",
  timeout: "timed_out",
  timedout: "timed_out",
  timed_out: "timed_out",
};

function word(value: unknown): string {
  return (text(value) ?? "").toLowerCase().replace(/[\s-]+/g, "_");
}

/**
 * The call's outcome from `cause`, refined by `queue_disposition` when the call was not answered.
 * A disposition alone (no cause) decides too; neither: unknown (null).
 */
function outcomeOf(payload: Record<string, unknown>): Outcome | null {
  const cause = CAUSES[word(payload.cause)];
  const disposition = DISPOSITIONS[word(payload.queue_disposition)];
  if (cause === "answered") return OUTCOMES.answered;
  if (disposition && disposition !== "answered" && (cause === undefined || cause === "no_answer")) return OUTCOMES[disposition];
  if (cause) return OUTCOMES[cause];
  return disposition ? OUTCOMES[disposition] : null;
}

/**
 * The call type `type` is `<from>_to_<to>` (the seed: did_to_que, ext_to_out). It decides when it names the
 * ends: a call in on a DID is inbound; an extension calling out is outbound; an extension calling anything
 * else (ext_to_ext, ext_to_que, ext_to_ivr) is internal. Otherwise `direction` (incoming/outgoing) decides.
 * The type wins over `direction` because the seed's own example pairs did_to_que with "outgoing".
 */
function directionOf(payload: Record<string, unknown>): Direction | null {
  const [from, to] = /^([a-z]+)_to_([a-z]+)$/.exec(word(payload.type))?.slice(1) ?? [];
  const outside = (end: string | undefined) => end === "did" || end === "out" || end === "pstn" || end === "trunk";
  if (outside(from)) return "inbound";
  if (from === "ext" && to !== undefined) return outside(to) ? "outbound" : "internal";
  const direction = word(payload.direction);
  if (direction === "incoming" || direction === "inbound") return "inbound";
  if (direction === "outgoing" || direction === "outbound") return "outbound";
  if (direction === "internal") return "internal";
  return null;
}

/**
 * Seconds from ringing to answer: `ring_duration`, or else the difference of the wall-clock times
 * `start_at` and `answer_at` ("23:04:40", no date, local time: modulo a day).
 */
function ringSeconds(payload: Record<string, unknown>): number | null {
  const ring = seconds(payload.ring_duration);
  if (ring !== null) return ring;
  const start = hmsSeconds(payload.start_at);
  const answer = hmsSeconds(payload.answer_at);
  if (start === null || answer === null) return null;
  return (answer - start + DAY_SECONDS) % DAY_SECONDS;
}

/**
 * Talk time: `billing_duration` when plausible (at most the call's duration; without a duration, not an
 * epoch timestamp), else `billing_duration_time` "HH:MM:SS" when that is plausible, else duration minus ringing
 * for an answered call; 0 for a call known not to be answered.
 */
function billSeconds(payload: Record<string, unknown>, duration: number | null, ring: number | null, answered: boolean | null) {
  const plausible = (s: number | null): s is number =>
    s !== null && (duration !== null ? s <= duration : s < EPOCH_LIKE_SECONDS);
  const billing = seconds(payload.billing_duration);
  if (plausible(billing)) return billing;
  const clock = hmsSeconds(payload.billing_duration_time);
  if (plausible(clock)) return clock;
  if (answered === false) return 0;
  if (answered && duration !== null && ring !== null && ring <= duration) return duration - ring;
  return null;
}

/**
 * What makes a VoIPAppz event unique, so that a retry is stored once: its event and call (each happens once
 * per call), and the IVR's name for IVR events (an IVR may run more than once). Without both, the payload itself.
 */
function dedupeKeyOf(eventName: string | null, mapping: Mapping | undefined, payload: Record<string, unknown>): string {
  const uuid = text(payload.uuid);
  const ivrName = text(payload.ivr_name);
  const eventKey = mapping?.name ?? eventName ?? "";
  if (uuid === null || eventName === null) return `json:${eventKey}|${fingerprint(payload)}`;
  return [eventKey, uuid, ...(mapping?.kind.startsWith("ivr") && ivrName !== null ? [ivrName] : [])].join("|");
}

/** Status and hangup facts by what the event says: none for IVR events. */
function outcomeByKind(kind: Kind, payload: Record<string, unknown>): Outcome | null {
  if (kind === "answer") return IN_PROGRESS.answered;
  if (kind === "ringing") return IN_PROGRESS.ringing;
  return kind === "end" ? outcomeOf(payload) : null;
}

function normalizeEvent(payload: Record<string, unknown>, context: NormalizeContext): NormalizedEvent {
  const eventName = text(payload.event) ?? text(context.query.event);
  const mapping = eventName === null ? undefined : EVENTS[eventName.toLowerCase()];
  const uniqueid = text(payload.uuid)?.slice(0, 256) ?? "unknown";
  const dedupe_key = dedupeKeyOf(eventName, mapping, payload);
  if (!mapping) return unmappedEvent({ uniqueid, occurred_at: context.receivedAt, dedupe_key, raw: payload });

  const { kind } = mapping;
  const direction = directionOf(payload);
  const startAt = isoTime(payload.created_at);
  const duration = seconds(payload.duration) ?? hmsSeconds(payload.duration_time);
  const ring = ringSeconds(payload);
  const ending = kind === "end";
  const outcome = outcomeByKind(kind, payload);
  const answered = outcome?.bridged ?? null;
  const answerAt = answered && startAt !== null && ring !== null ? plusSeconds(startAt, ring) : null;
  const endAt = startAt !== null && duration !== null ? plusSeconds(startAt, duration) : null;

  const callerNumber = text(payload.caller_id_number);
  const extension = text(payload.extension_username);
  const destination = text(payload.destination);
  const contact = text(payload.contact_number);
  const didNumber = text(payload.did_number);
  const userFullname = text(payload.user_fullname);
  const userName = text(payload.user_name);
  const agent: Agent | null = agentOf(userFullname ?? userName, extension);
  const code = text(payload.hangup_cause_code);

  const occurredAt =
    (kind === "ringing" || kind === "ivr_start" ? startAt : kind === "answer" ? answerAt : endAt) ?? context.receivedAt;

  // On an inbound call contact_number is the caller too: a body may carry it instead of caller_id_number.
  const presented = direction === "inbound" ? (callerNumber ?? contact) : callerNumber;

  const fields = {
    direction,
    ...(outcome ?? {}),
    src: direction === "inbound" ? presented : (extension ?? callerNumber),
    dst: direction === "inbound" ? (destination ?? didNumber) : (destination ?? contact),
    caller_id_number: presented,
    caller_name: text(payload.caller_name),
    did: direction === "inbound" ? didNumber : null,
    start_at: startAt,
    answer_at: answerAt,
    end_at: ending ? endAt : null,
    duration,
    bill_duration: ending || duration !== null ? billSeconds(payload, duration, ring, answered) : null,
    hangup_cause_code: code !== null && /^\d{1,3}$/.test(code) ? code : null,
    public_recording: httpUrl(payload.recording_url),
    queue_name: text(payload.queue_name),
    ivr_name: text(payload.ivr_name),
    agent,
  };
  return mappedEvent(mapping.type, fields, { uniqueid, occurred_at: occurredAt, dedupe_key, raw: payload });
}

/** `?token=<secret>` in the ingest URL: the only proof a VoIPAppz webhook screen (URL, method, body) can send. */
function hasTokenParameter(request: InboundRequest, secret: string): boolean {
  const token = request.query.token;
  return typeof token === "string" && token !== "" && timingSafeEqual(token, secret);
}

export const voipappzSource: SourceAdapter = {
  kind: "voipappz",
  proof: "?token=<secret> in the ingest URL, Authorization: Bearer <secret>, or x-signature: the hex HMAC-SHA256 of the body keyed by the secret",
  // Its webhook screen sets no headers, so whatever Content-Type it sends, a JSON body is accepted.
  anyContentType: true,
  async verify(request, secret) {
    return hasTokenParameter(request, secret) || (await hasBearerOrSignature(request, secret));
  },
  normalize(payload, context) {
    return [normalizeEvent(oneObject(payload, "A VoIPAppz webhook body is one JSON object (uuid, direction, cause, ...)"), context)];
  },
};

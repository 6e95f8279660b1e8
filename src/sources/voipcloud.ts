import { timingSafeEqual } from "../domain/crypto.js";
import type { Agent, Direction, EventType, NormalizedEvent } from "../domain/event.js";
import type { NormalizeContext, SourceAdapter } from "./adapter.js";
import { IN_PROGRESS, OUTCOMES, type Outcome } from "./hangup.js";
import { mappedEvent, unmappedEvent } from "./normalized.js";
import { agentOf, fingerprint, httpUrl, isoTime, oneObject, plusSeconds, seconds, text } from "./values.js";

// VoIPcloud global webhooks (seeds/voipcloud-global-webhooks.txt): one flat JSON object per event, its `type`
// naming the event, the secret token sent verbatim in `X-Pbx-Token`. Times are ISO 8601 with an offset.

/** What an event says about its call, which decides status, times and occurred_at. */
type Kind = "ringing" | "start" | "answered" | "completed" | "summary" | "voicemail" | "recording" | "component";

interface Mapping {
  type: EventType;
  kind: Kind;
  direction: Direction;
}

const TYPES: Record<string, Mapping> = {
  user_inbound: { type: "call.ringing", kind: "ringing", direction: "inbound" },
  user_inbound_answered: { type: "call.answer", kind: "answered", direction: "inbound" },
  user_inbound_completed: { type: "call.end", kind: "completed", direction: "inbound" },
  user_outbound: { type: "call.start", kind: "start", direction: "outbound" },
  user_outbound_answered: { type: "call.answer", kind: "answered", direction: "outbound" },
  user_outbound_completed: { type: "call.end", kind: "completed", direction: "outbound" },
  queue_call: { type: "call.report", kind: "summary", direction: "inbound" },
  ring_group_call: { type: "call.report", kind: "summary", direction: "inbound" },
  voicemail: { type: "voicemail", kind: "voicemail", direction: "inbound" },
  recording_inbound: { type: "recording", kind: "recording", direction: "inbound" },
  recording_outbound: { type: "recording", kind: "recording", direction: "outbound" },
  webhook_component_event: { type: "call.update", kind: "component", direction: "inbound" },
};

/** Names seen in the wild for the same event (research/crm-apis.md): deduplicated as the event they alias. */
const ALIASES: Record<string, string> = { user_user_inbound_answered: "user_inbound_answered" };

/** `status` of a queue or ring group summary. Abandoned: the caller hung up waiting; timed out: the PBX gave up. */
const SUMMARY_OUTCOMES: Record<string, Outcome> = {
  answered: OUTCOMES.answered,
  abandoned: OUTCOMES.abandoned,
  timedout: OUTCOMES.timed_out,
  timed_out: OUTCOMES.timed_out,
  timeout: OUTCOMES.timed_out,
};

/** The PBX's own name of the event, aliases resolved; null when the payload has none. */
function typeOf(payload: Record<string, unknown>): string | null {
  const name = text(payload.type)?.toLowerCase() ?? null;
  return name === null ? null : (ALIASES[name] ?? name);
}

/**
 * What makes a VoIPcloud event unique, so that a retry is stored once: its type and call id; the user for
 * user events (a queue or ring group rings several users on one call, each with its own user_inbound);
 * the recording time for recordings and voicemail; the component name for a webhook component (a call flow
 * may hold several, each sending its own event for the same call). Without a call id, the payload itself.
 */
function dedupeKeyOf(type: string | null, payload: Record<string, unknown>): string {
  const callId = text(payload.unique_call_id);
  if (type === null || callId === null) return `json:${fingerprint(payload)}`;
  const parts = [type, callId];
  const user = text(payload.user_number);
  if (user !== null) parts.push(user);
  const recordedAt = text(payload.recorded_at);
  if (recordedAt !== null) parts.push(recordedAt);
  const component = type === "webhook_component_event" ? text(payload.component_name) : null;
  if (component !== null) parts.push(component);
  return parts.join("|");
}

function outcomeOf(kind: Kind, payload: Record<string, unknown>, answered: boolean): Outcome {
  switch (kind) {
    case "ringing":
    case "start":
      return IN_PROGRESS.ringing;
    case "answered":
      return IN_PROGRESS.answered;
    case "summary":
      return SUMMARY_OUTCOMES[text(payload.status)?.toLowerCase() ?? ""] ?? (answered ? OUTCOMES.answered : OUTCOMES.no_answer);
    case "completed":
      return answered ? OUTCOMES.answered : OUTCOMES.no_answer;
    case "voicemail":
      return { status: "voicemail", hangup_cause: null, bridged: false, hangup_initiator: null };
    case "recording":
    case "component":
      return { status: null, hangup_cause: null, bridged: null, hangup_initiator: null };
  }
}

function normalizeEvent(payload: Record<string, unknown>, context: NormalizeContext): NormalizedEvent {
  const type = typeOf(payload);
  const mapping = type === null ? undefined : TYPES[type];
  const uniqueid = text(payload.unique_call_id)?.slice(0, 256) ?? "unknown";
  const dedupe_key = dedupeKeyOf(type, payload);
  if (!mapping) return unmappedEvent({ uniqueid, occurred_at: context.receivedAt, dedupe_key, raw: payload });

  const { kind, direction } = mapping;
  const callerId = text(payload.caller_id);
  const destNumber = text(payload.dest_number);
  const userName = text(payload.user_name);
  const userNumber = text(payload.user_number);
  const startAt = isoTime(payload.call_start_at);
  const connectedAt = isoTime(payload.connected_at);
  const recordedAt = isoTime(payload.recorded_at);
  const duration = seconds(payload.call_duration);
  const talk = seconds(payload.conversation_duration);
  const endAt = startAt !== null && duration !== null ? plusSeconds(startAt, duration) : null;
  const answered = connectedAt !== null || (talk ?? 0) > 0;

  // The webhook component sends the caller in user_name (CNAM) and user_number (CLI): there is no user yet.
  const component = kind === "component";
  const callerNumber = component ? (callerId ?? userNumber) : callerId;
  const callerName = component ? (text(payload.caller_name) ?? userName) : text(payload.caller_name);
  const agent: Agent | null = component ? null : agentOf(userName, userNumber);
  const componentName = component ? text(payload.component_name) : null;

  const occurredAt =
    (kind === "voicemail" || kind === "recording"
      ? recordedAt
      : kind === "completed" || kind === "summary"
        ? endAt
        : kind === "answered"
          ? connectedAt
          : startAt) ?? context.receivedAt;

  const fields = {
    direction,
    ...outcomeOf(kind, payload, answered),
    src: direction === "outbound" ? (userNumber ?? callerId) : callerNumber,
    dst: destNumber,
    caller_id_number: callerNumber,
    caller_name: callerName,
    did: direction === "inbound" ? destNumber : null,
    start_at: startAt,
    answer_at: connectedAt,
    end_at: endAt,
    duration,
    bill_duration: talk,
    public_recording: httpUrl(payload.call_recording_link),
    queue_name: text(payload.queue_name),
    ring_group_name: text(payload.ring_group_name),
    agent,
    tags: componentName !== null ? [`component:${componentName}`] : [],
  };
  return mappedEvent(mapping.type, fields, { uniqueid, occurred_at: occurredAt, dedupe_key, raw: payload });
}

export const voipcloudSource: SourceAdapter = {
  kind: "voipcloud",
  proof: "X-Pbx-Token: <secret> (the Secret Token of the PBX's Global Webhooks)",
  async verify(request, secret) {
    const token = request.headers.get("x-pbx-token");
    return token !== null && timingSafeEqual(token.trim(), secret);
  },
  normalize(payload, context) {
    return [normalizeEvent(oneObject(payload, 'A VoIPcloud webhook event is one JSON object with a "type" (e.g. user_inbound_completed)'), context)];
  },
};

import { z } from "zod";
import {
  canonicalEvent,
  canonicalEventSchema,
  SOURCE_KINDS,
  sourceKindSchema,
  type CanonicalEvent,
  type NormalizedEvent,
  type SourceKind,
} from "../domain/event.js";
import { SAMPLE_EVENT } from "../domain/sample-event.js";
import { adapterFor } from "./registry.js";

// One sample payload per source kind, exactly as that PBX posts it: an answered inbound call that has ended.
// Previews and test sends can pick one, so a rule can be tried on what each PBX really gives. The payloads
// are copies of shared/fixtures (VoIPcloud and VoIPAppz unchanged; Wildix's documented call:end turned into
// an answered inbound call), kept here because the product cannot read files at run time on Workers.

/** The samples' ids: one per source kind. */
export const SAMPLE_IDS = SOURCE_KINDS;
type SampleId = SourceKind;

interface SamplePayload {
  label: string;
  /** The body the PBX posts. */
  payload: unknown;
}

/** A sample as `GET /api/samples` lists it: the payload as its source's adapter turns it into the canonical event. */
export const sampleEventSchema = z.object({
  id: z.enum(SAMPLE_IDS),
  source: sourceKindSchema,
  label: z.string(),
  event: canonicalEventSchema,
});
type SampleEvent = z.infer<typeof sampleEventSchema>;

/**
 * A Wildix `call:end` of an answered inbound call (caller REMOTE, callee LOCAL). Wildix sends no times but
 * `time` and no durations: the gateway takes start and answer from the call's earlier events, so this lone
 * event ends with the times it carries (start, answer and end at `time`, durations 0).
 */
const WILDIX_CALL_END = {
  id: "it_w118741_1795183380.2231",
  pbx: "221100001bab",
  time: 1795183720512,
  company: "it_w118741",
  type: "call:end",
  integrationId: "8qkmnq",
  data: {
    status: "TALKING",
    caller: {
      type: "REMOTE",
      phone: "+15551234567",
      name: "Jane Customer",
      company: "Acme Corp",
      email: null,
      userId: null,
      userExtension: null,
      userDepartment: null,
      groupId: null,
      groupName: null,
      userAgent: null,
      userDevice: null,
    },
    callee: {
      type: "LOCAL",
      phone: "201",
      name: "Alex Agent",
      company: null,
      email: "alex@example.com",
      userId: "5753746",
      userExtension: "201",
      userDepartment: "Sales",
      groupId: "874629312",
      groupName: "Default",
      userAgent: "Wildix Zero Distance 4.0.1 WebRTC-f2a0f5f1-6c4e-444f-b99f-a968bb5f7297",
      userDevice: "COLLABORATION_WEB",
    },
    service: null,
    destination: "+15557654321",
    trunkName: "SIP trunk",
    queueName: "Sales",
    queueId: "1",
    tags: ["vip"],
    flags: [],
    endCause: "16",
    endCauseStr: "Normal Clearing",
    endBy: "CALLER",
  },
};

/** shared/fixtures/voipcloud/user_inbound_completed.json. */
const VOIPCLOUD_USER_INBOUND_COMPLETED = {
  type: "user_inbound_completed",
  unique_call_id: "1700000000.5521",
  caller_id: "61298765432",
  caller_name: "ACME PTY LTD",
  user_name: "Jane Smith",
  user_number: "201",
  dest_number: "61280001234",
  call_start_at: "2026-11-20T09:15:02+11:00",
  connected_at: "2026-11-20T09:15:09+11:00",
  call_duration: 187,
  conversation_duration: 180,
  queue_name: "Sales",
  ring_group_name: "",
};

/** shared/fixtures/voipappz/call-hangup.json: the body a VoIPAppz Call:Hangup webhook is set up to send. */
const VOIPAPPZ_CALL_HANGUP = {
  event: "Call:Hangup",
  direction: "incoming",
  uuid: "bfd7e62a-5a55-4286-9453-b4b4cfc5cca8",
  type: "did_to_que",
  created_at: "2024-12-02T21:04:40.701+00:00",
  contact_number: null,
  caller_id_number: "972541234567",
  duration: 60,
  ring_duration: 30,
  destination: "039000000",
  start_at: "23:04:40",
  answer_at: "23:05:10",
  environment_name: "ITD2024",
  user_fullname: "Dana Levi",
  user_name: "dana",
  extension_username: "105",
  cause: "answer",
  sip_status: "200",
  recording_url: "https://cloud.voipappz.io/recordings/bfd7e62a-5a55-4286-9453-b4b4cfc5cca8",
  duration_time: "00:01:00",
  billing_duration: 30,
  billing_duration_time: "00:00:30",
  did_number: "972722791142",
  did_name: "972722791142",
  queue_disposition: "answer",
  ivr_name: null,
  call_state: null,
  queue_name: "Que1",
};

/** The sample payload of each source kind. */
export const SAMPLE_PAYLOADS: Record<SampleId, SamplePayload> = {
  canonical: { label: "Canonical: call.end, answered inbound call", payload: SAMPLE_EVENT },
  wildix: { label: "Wildix: call:end, answered inbound call", payload: WILDIX_CALL_END },
  voipcloud: { label: "VoIPcloud: user_inbound_completed, answered inbound call", payload: VOIPCLOUD_USER_INBOUND_COMPLETED },
  voipappz: { label: "VoIPAppz: Call:Hangup, answered inbound call", payload: VOIPAPPZ_CALL_HANGUP },
};

/** End-of-call types first (the report carries the final billing data), then the event with most fields filled. */
function completeness(event: NormalizedEvent): number {
  const rank = event.type === "call.report" ? 2 : event.type === "call.end" ? 1 : 0;
  const filled = Object.values(event).filter((value) => value !== null && !(Array.isArray(value) && value.length === 0)).length;
  return rank * 1_000 + filled;
}

/**
 * A payload as the canonical event its source's adapter makes of it when it arrives on its own (no earlier
 * events of the call known); of several events, the most complete end-of-call one. Throws the adapter's 400.
 */
export function eventOfPayload(
  kind: SourceKind,
  payload: unknown,
  nowIso: string,
  origin: { event_id: string; source_id: string },
): CanonicalEvent {
  const events = adapterFor(kind).normalize(payload, { receivedAt: nowIso, query: {}, calls: new Map() });
  const best = events.reduce((a, b) => (completeness(b) > completeness(a) ? b : a));
  return canonicalEvent(best, { ...origin, source: kind });
}

/** The source_id of a sample, which came from no source. */
export const SAMPLE_SOURCE_ID = "sample";

/** One sample as its canonical event: event_id `evt_sample_<id>`, source_id `sample`, `raw` the payload. */
export function sampleEvent(id: SampleId, nowIso: string): SampleEvent {
  const { label, payload } = SAMPLE_PAYLOADS[id];
  const event = eventOfPayload(id, payload, nowIso, { event_id: `evt_sample_${id}`, source_id: SAMPLE_SOURCE_ID });
  return { id, source: id, label, event };
}

/** Every sample, in the order of `SAMPLE_IDS`. */
export function sampleEvents(nowIso: string): SampleEvent[] {
  return SAMPLE_IDS.map((id) => sampleEvent(id, nowIso));
}

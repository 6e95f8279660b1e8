import { createHmac } from "node:crypto";
import { projectJson } from "./support/files.js";
import { describe, expect, it } from "vitest";
import { voipappzSource } from "../src/sources/voipappz.js";
import { createWebhook } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { callFieldsOf, EMPTY, expectOneObjectRequired, itNormalizesEachFixture, normalizerOf, RECEIVED_AT } from "./support/source-normalize.js";

const fixture = (name: string): Record<string, any> =>
  projectJson(`test/fixtures/voipappz/${name}.json`);

const { normalize, one } = normalizerOf(voipappzSource);

const DANA = { name: "Dana Levi", extension: "105", email: null };
const HANGUP_UUID = "bfd7e62a-5a55-4286-9453-b4b4cfc5cca8";
const RINGING_UUID = "0c1f7a55-2b7e-4d3c-9a51-77e0d3a4b2f1";

const EXPECTED: Record<string, Record<string, unknown>> = {
  "call-hangup": {
    ...EMPTY,
    type: "call.end",
    uniqueid: HANGUP_UUID,
    occurred_at: "2024-12-02T21:05:40.701Z",
    direction: "inbound",
    status: "answered",
    src: "972541234567",
    dst: "039000000",
    caller_id_number: "972541234567",
    did: "972722791142",
    start_at: "2024-12-02T21:04:40.701Z",
    answer_at: "2024-12-02T21:05:10.701Z",
    end_at: "2024-12-02T21:05:40.701Z",
    duration: 60,
    bill_duration: 30,
    bridged: true,
    hangup_cause: "ANSWERED",
    public_recording: `https://cloud.voipappz.io/recordings/${HANGUP_UUID}`,
    queue_name: "Que1",
    agent: DANA,
    dedupe_key: `Call:Hangup|${HANGUP_UUID}`,
  },
  "call-ringing": {
    ...EMPTY,
    type: "call.ringing",
    uniqueid: RINGING_UUID,
    occurred_at: "2024-12-03T08:12:00.000Z",
    direction: "outbound",
    status: "ringing",
    src: "105",
    dst: "972541112233",
    caller_id_number: "972722791142",
    start_at: "2024-12-03T08:12:00.000Z",
    agent: DANA,
    dedupe_key: `Call:Ringing|${RINGING_UUID}`,
  },
};
const FIXTURES = Object.keys(EXPECTED);

/** The seed's own example body, its comments dropped and `destination` quoted (the seed's 039000000 is not JSON). */
const SEED_EXAMPLE = {
  direction: "outgoing",
  uuid: HANGUP_UUID,
  type: "did_to_que",
  created_at: "2024-12-02T21:04:40.701+00:00",
  contact_number: null,
  caller_id_number: null,
  duration: 60,
  ring_duration: 30,
  destination: "039000000",
  start_at: "23:04:40",
  answer_at: "23:34:00",
  environment_name: "ITD2024",
  user_fullname: null,
  user_name: "",
  extension_username: null,
  cause: "answer",
  sip_status: "200",
  recording_url: `https://cloud.voipappz.io/recordings/${HANGUP_UUID}`,
  duration_time: "00:06:57",
  billing_duration: 1733173541,
  billing_duration_time: "00:05:41",
  did_number: "972722791142",
  did_name: "972722791142",
  queue_disposition: "timeout",
  ivr_name: null,
  call_state: null,
  queue_name: "Que1",
};

describe("VoIPAppz normalize: the fixtures", () => {
  itNormalizesEachFixture(FIXTURES, fixture, one, EXPECTED);
});

describe("VoIPAppz normalize: variants", () => {
  it("takes the event from the ingest URL's ?event= when the body has none", () => {
    const { event: _e, ...body } = fixture("call-hangup");
    const fromQuery = one(body, { event: "Call:Hangup" });
    expect(fromQuery).toEqual({ ...EXPECTED["call-hangup"], raw: body });
    // The body's own event wins over the URL's; names are read case-insensitively.
    expect(one(fixture("call-hangup"), { event: "Call:Ringing" }).type).toBe("call.end");
    expect(one(body, { event: "call:reporting" })).toMatchObject({ type: "call.report", dedupe_key: `Call:Reporting|${HANGUP_UUID}` });
  });

  it("reads numbers sent as strings", () => {
    const event = one({ ...fixture("call-hangup"), duration: "60", ring_duration: "30", billing_duration: "30" });
    expect(callFieldsOf(event as any)).toEqual(callFieldsOf(EXPECTED["call-hangup"]));
  });

  it("falls back from a bogus billing_duration (the seed's epoch value) to billing_duration_time, then to duration minus ringing", () => {
    const clock = one({ ...fixture("call-hangup"), billing_duration: 1733173541, billing_duration_time: "00:00:25" });
    expect(clock.bill_duration).toBe(25);
    // The seed's own example: billing_duration is an epoch and billing_duration_time (5:41) exceeds the 60 s call.
    const seed = one({ ...SEED_EXAMPLE, event: "Call:Hangup" });
    expect(seed).toEqual({
      ...EMPTY,
      type: "call.end",
      uniqueid: HANGUP_UUID,
      occurred_at: "2024-12-02T21:05:40.701Z",
      // did_to_que wins over the example's "outgoing".
      direction: "inbound",
      status: "answered",
      dst: "039000000",
      did: "972722791142",
      start_at: "2024-12-02T21:04:40.701Z",
      answer_at: "2024-12-02T21:05:10.701Z",
      end_at: "2024-12-02T21:05:40.701Z",
      duration: 60,
      bill_duration: 30,
      bridged: true,
      hangup_cause: "ANSWERED",
      public_recording: `https://cloud.voipappz.io/recordings/${HANGUP_UUID}`,
      queue_name: "Que1",
      dedupe_key: `Call:Hangup|${HANGUP_UUID}`,
      raw: { ...SEED_EXAMPLE, event: "Call:Hangup" },
    });
    // Without a duration, an epoch-sized value is still refused.
    const { duration: _d, duration_time: _t, ...noDuration } = SEED_EXAMPLE;
    expect(one({ ...noDuration, event: "Call:Hangup" }).bill_duration).toBe(341);
  });

  it("maps cause busy and no_answer; queue_disposition refines an unanswered queue call", () => {
    const base = { ...fixture("call-hangup"), billing_duration: 0, billing_duration_time: "00:00:00" };
    const outcome = (overrides: Record<string, unknown>) => {
      const { status, hangup_cause, bridged, hangup_initiator, answer_at, bill_duration } = one({ ...base, ...overrides });
      return { status, hangup_cause, bridged, hangup_initiator, answer_at, bill_duration };
    };
    const unanswered = { bridged: false, answer_at: null, bill_duration: 0 };
    expect(outcome({ cause: "busy", queue_disposition: null })).toEqual({ ...unanswered, status: "busy", hangup_cause: "BUSY", hangup_initiator: null });
    expect(outcome({ cause: "no_answer", queue_disposition: "" })).toEqual({
      ...unanswered, status: "no_answer", hangup_cause: "NO_ANSWER", hangup_initiator: null,
    });
    expect(outcome({ cause: "no_answer", queue_disposition: "abandoned" })).toEqual({
      ...unanswered, status: "canceled", hangup_cause: "CANCELED", hangup_initiator: "caller",
    });
    expect(outcome({ cause: "no_answer", queue_disposition: "timeout" })).toEqual({
      ...unanswered, status: "no_answer", hangup_cause: "NO_ANSWER", hangup_initiator: "system",
    });
    // The queue's disposition does not overrule an answered call, nor a busy one.
    expect(outcome({ cause: "answer", queue_disposition: "timeout" }).status).toBe("answered");
    expect(outcome({ cause: "busy", queue_disposition: "timeout" }).status).toBe("busy");
    // No cause at all: the disposition alone decides; neither: the outcome is unknown.
    expect(outcome({ cause: null, queue_disposition: "abandoned" }).status).toBe("canceled");
    expect(outcome({ cause: undefined, queue_disposition: undefined })).toMatchObject({ status: null, hangup_cause: null, bridged: null });
  });

  it("takes a Q.850 code when the body carries one, never the SIP status", () => {
    expect(one(fixture("call-hangup")).hangup_cause_code).toBeNull();
    expect(one({ ...fixture("call-hangup"), hangup_cause_code: "16" }).hangup_cause_code).toBe("16");
  });

  it("maps Call:Answer at created_at plus the ringing time, or the wall-clock difference without ring_duration", () => {
    const answer = one({ ...fixture("call-hangup"), event: "Call:Answer" });
    expect(answer).toMatchObject({
      type: "call.answer",
      status: "answered",
      hangup_cause: null,
      bridged: true,
      answer_at: "2024-12-02T21:05:10.701Z",
      occurred_at: "2024-12-02T21:05:10.701Z",
      end_at: null,
    });
    const { ring_duration: _r, duration: _d, duration_time: _t, billing_duration: _b, billing_duration_time: _bt, ...body } = fixture("call-hangup");
    const fromClock = one({ ...body, event: "Call:Answer", start_at: "23:59:50", answer_at: "00:00:05" });
    expect(fromClock).toMatchObject({ answer_at: "2024-12-02T21:04:55.701Z", duration: null, bill_duration: null });
    const { start_at: _s, answer_at: _a, ...noTimes } = body;
    expect(one({ ...noTimes, event: "Call:Answer" })).toMatchObject({ answer_at: null, occurred_at: RECEIVED_AT });
  });

  it("reads an extension calling an extension, queue or IVR as internal", () => {
    const call = { ...fixture("call-ringing"), type: "ext_to_ext", destination: "106", contact_number: null, direction: "outgoing" };
    expect(one(call)).toMatchObject({ direction: "internal", src: "105", dst: "106", did: null });
    expect(one({ ...call, type: "ext_to_que", destination: "500" }).direction).toBe("internal");
    // The call type decides when it names both ends; otherwise `direction` does.
    const { direction: _d, ...untyped } = fixture("call-ringing");
    expect(one(untyped).direction).toBe("outbound");
    expect(one({ ...untyped, type: "did_to_ivr" }).direction).toBe("inbound");
    expect(one({ ...untyped, type: "did_to_que", direction: "outgoing" }).direction).toBe("inbound");
    expect(one({ ...untyped, type: "que_to_ext", direction: "incoming" }).direction).toBe("inbound");
    expect(one({ ...untyped, type: "something_else" }).direction).toBeNull();
  });

  it("sends an outbound call to contact_number when destination is missing", () => {
    const { destination: _d, ...body } = fixture("call-ringing");
    expect(one(body).dst).toBe("972541112233");
    expect(one({ ...body, extension_username: null }).src).toBe("972722791142");
  });

  it("takes an inbound caller from contact_number when caller_id_number is missing, for src and caller_id_number alike", () => {
    const inbound = one({ ...fixture("call-hangup"), caller_id_number: null, contact_number: "972549998877" });
    expect(inbound).toMatchObject({ direction: "inbound", src: "972549998877", caller_id_number: "972549998877" });
    // On an outbound call contact_number is the party called, never the presented number.
    const outbound = one({ ...fixture("call-ringing"), caller_id_number: null });
    expect(outbound).toMatchObject({ direction: "outbound", src: "105", dst: "972541112233", caller_id_number: null });
  });

  it("maps Ivr:Start and Ivr:End with the IVR's name", () => {
    const ivr = { ...fixture("call-hangup"), ivr_name: "Main menu" };
    expect(one({ ...ivr, event: "Ivr:Start" })).toMatchObject({
      type: "ivr.start",
      status: null,
      hangup_cause: null,
      ivr_name: "Main menu",
      occurred_at: "2024-12-02T21:04:40.701Z",
      end_at: null,
      dedupe_key: `Ivr:Start|${HANGUP_UUID}|Main menu`,
    });
    expect(one({ ...ivr, event: "Ivr:End" })).toMatchObject({
      type: "ivr.end",
      status: null,
      occurred_at: "2024-12-02T21:05:40.701Z",
      end_at: null,
      dedupe_key: `Ivr:End|${HANGUP_UUID}|Main menu`,
    });
  });

  it("keeps a body with only the event and uuid; empty strings read as absent", () => {
    const body = { event: "Call:Ringing", uuid: "u-1", caller_id_number: "", user_name: "", queue_name: "" };
    expect(one(body)).toEqual({
      ...EMPTY,
      type: "call.ringing",
      uniqueid: "u-1",
      occurred_at: RECEIVED_AT,
      status: "ringing",
      dedupe_key: "Call:Ringing|u-1",
      raw: body,
    });
  });

  it("stores an unknown event, or a body without any, as unmapped", () => {
    const transfer = { ...fixture("call-ringing"), event: "Call:Transfer" };
    expect(one(transfer)).toEqual({
      ...EMPTY,
      type: "unmapped",
      uniqueid: RINGING_UUID,
      occurred_at: RECEIVED_AT,
      dedupe_key: `Call:Transfer|${RINGING_UUID}`,
      raw: transfer,
    });
    expect(one({ hello: "world" })).toMatchObject({
      type: "unmapped",
      uniqueid: "unknown",
      occurred_at: RECEIVED_AT,
      dedupe_key: expect.stringMatching(/^json:\|[0-9a-f]{16}:17$/),
    });
  });

  it("refuses an array or a non-object with a 400 that says what was expected", () => {
    for (const payload of [[fixture("call-ringing")], "Call:Ringing", 7, null]) expectOneObjectRequired(() => normalize(payload));
  });
});

describe("VoIPAppz verify", () => {
  const SECRET = "appz-secret-123";
  const body = new TextEncoder().encode('{"event":"Call:Ringing"}');
  const request = (headers: Record<string, string>, query: Record<string, string> = {}) => ({ headers: new Headers(headers), body, query });

  it("accepts ?token=, a bearer secret or an x-signature HMAC", async () => {
    expect(await voipappzSource.verify(request({}, { token: SECRET }), SECRET)).toBe(true);
    expect(await voipappzSource.verify(request({ Authorization: `Bearer ${SECRET}` }), SECRET)).toBe(true);
    const signature = createHmac("sha256", SECRET).update(body).digest("hex");
    expect(await voipappzSource.verify(request({ "x-signature": signature }), SECRET)).toBe(true);
  });

  it("refuses a wrong, empty or missing token", async () => {
    expect(await voipappzSource.verify(request({}, { token: "appz-secret-12" }), SECRET)).toBe(false);
    expect(await voipappzSource.verify(request({}, { token: "" }), SECRET)).toBe(false);
    expect(await voipappzSource.verify(request({ Authorization: "Bearer nope" }), SECRET)).toBe(false);
    expect(await voipappzSource.verify(request({ "X-Pbx-Token": SECRET }), SECRET)).toBe(false);
    expect(await voipappzSource.verify(request({}), SECRET)).toBe(false);
  });
});

describe("VoIPAppz through the running gateway", () => {
  const SECRET = "appz-ingest-secret-9f3c";

  const t = gatewayPerTest({ source: { name: "VoIPAppz", kind: "voipappz", secret: SECRET } });

  /** Posts a body the way a VoIPAppz webhook object does: POST, JSON, the secret in the URL. */
  const post = (payload: unknown, query: Record<string, string> = { token: SECRET }, body = JSON.stringify(payload)) =>
    t.gw.send(`/ingest/${t.source.id}?${new URLSearchParams(query)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  const events = async (query = "") => (await t.gw.api("GET", `/api/events${query}`)).body.data;

  it("stores every fixture as its canonical event with the raw payload unchanged", async () => {
    for (const name of FIXTURES) {
      const payload = fixture(name);
      const answer = await post(payload);
      expect(answer.status, name).toBe(202);
      const stored = await t.gw.api("GET", `/api/events/${answer.body.event_id}`);
      const { dedupe_key: _key, ...expected } = EXPECTED[name];
      expect(stored.body).toMatchObject({ ...expected, event_id: answer.body.event_id, source: "voipappz", source_id: t.source.id });
      expect(stored.body.raw).toEqual(payload);
    }
    expect(await events()).toHaveLength(FIXTURES.length);
  });

  it("accepts a JSON body whatever Content-Type VoIPAppz sends, and refuses a body that is not JSON", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded"]) {
      const answer = await t.gw.send(`/ingest/${t.source.id}?token=${SECRET}`, {
        method: "POST",
        headers: { "content-type": contentType },
        body: JSON.stringify({ ...fixture("call-hangup"), uuid: `ct-${contentType}` }),
      });
      expect(answer.status, contentType).toBe(202);
    }
    const notJson = await t.gw.send(`/ingest/${t.source.id}?token=${SECRET}`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "event=Call:Hangup",
    });
    expect(notJson.status).toBe(400);
  });

  it("accepts the bearer secret too, and the event name from the URL", async () => {
    const { event: _e, ...body } = fixture("call-hangup");
    const answer = await t.gw.send(`/ingest/${t.source.id}?event=${encodeURIComponent("Call:Hangup")}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(202);
    const stored = await t.gw.api("GET", `/api/events/${answer.body.event_id}`);
    expect(stored.body).toMatchObject({ type: "call.end", uniqueid: HANGUP_UUID, bill_duration: 30, raw: body });
  });

  it("sends a matching webhook: the call-log GET with the caller, the agent's extension and the talk time", async () => {
    await createWebhook(t.gw, {
      events: ["call.end"],
      method: "GET",
      url: `${t.receiver.url}/crm/calls`,
      params: { phone: "src", agent: "agent.extension", talk: "bill_duration" },
    });
    for (const name of FIXTURES) expect((await post(fixture(name))).status).toBe(202);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
    const [request] = t.receiver.requests;
    expect(request.method).toBe("GET");
    expect(request.path).toBe("/crm/calls");
    expect(Object.fromEntries(request.query)).toEqual({ phone: "972541234567", agent: "105", talk: "30" });
  });

  it("sends the caller of an inbound call that gives it only in contact_number", async () => {
    await createWebhook(t.gw, { events: ["call.end"], method: "GET", url: `${t.receiver.url}/crm/calls`, params: { phone: "caller_id_number" } });
    const answer = await post({ ...fixture("call-hangup"), caller_id_number: null, contact_number: "972549998877" });
    expect(answer.body.deliveries).toBe(1);
    await t.gw.settle();
    expect(Object.fromEntries(t.receiver.requests[0].query)).toEqual({ phone: "972549998877" });
  });

  it("refuses a wrong or missing token with 401 and stores nothing", async () => {
    for (const query of [{ token: "wrong-token-000" }, {} as Record<string, string>]) {
      const answer = await post(fixture("call-hangup"), query);
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe("unauthorized");
    }
    expect(await events()).toEqual([]);
  });

  it("answers a body that is not JSON, or not one object, with 400", async () => {
    const broken = await post(undefined, { token: SECRET }, "event=Call:Hangup&uuid=1");
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_json");
    const array = await post([fixture("call-hangup")]);
    expect(array.status).toBe(400);
    expect(array.body.error.message).toContain("one JSON object");
    expect(await events()).toEqual([]);
  });

  it("stores a PBX retry once and answers it with the first event_id", async () => {
    await createWebhook(t.gw, { events: ["call.end"], url: `${t.receiver.url}/hook` });
    const first = await post(fixture("call-hangup"));
    const retry = await post(fixture("call-hangup"));
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ event_id: first.body.event_id, deliveries: 1, duplicate: true });
    // The same call's reporting event is a new event.
    const report = await post({ ...fixture("call-hangup"), event: "Call:Reporting" });
    expect(report.body.event_id).not.toBe(first.body.event_id);
    expect(await events()).toHaveLength(2);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
  });

  it("stores an unknown event as unmapped, listed by type, with no delivery", async () => {
    await createWebhook(t.gw, { events: ["call.end", "call.ringing", "call.update"], url: `${t.receiver.url}/hook` });
    const payload = { ...fixture("call-ringing"), event: "Call:Transfer" };
    const answer = await post(payload);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ event_id: expect.any(String), deliveries: 0 });
    const unmapped = await events("?type=unmapped");
    expect(unmapped.map((e: { event_id: string }) => e.event_id)).toEqual([answer.body.event_id]);
    const stored = await t.gw.api("GET", `/api/events/${answer.body.event_id}`);
    expect(stored.body).toMatchObject({ type: "unmapped", uniqueid: RINGING_UUID, raw: payload, deliveries: [] });
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(0);
  });
});

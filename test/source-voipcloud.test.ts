import { projectJson } from "./support/files.js";
import { describe, expect, it } from "vitest";
import { voipcloudSource } from "../src/sources/voipcloud.js";
import { createWebhook } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { callFieldsOf, EMPTY, expectOneObjectRequired, itNormalizesEachFixture, normalizerOf, RECEIVED_AT } from "./support/source-normalize.js";

const fixture = (name: string): Record<string, any> =>
  projectJson(`test/fixtures/voipcloud/${name}.json`);

const FIXTURES = ["user_inbound", "user_inbound_answered", "user_inbound_completed", "user_outbound_completed", "queue_call", "voicemail"];

const { normalize, one } = normalizerOf(voipcloudSource);

const JANE = { name: "Jane Smith", extension: "201", email: null };

const INBOUND_CALL = {
  ...EMPTY,
  uniqueid: "1700000000.5521",
  direction: "inbound",
  src: "61298765432",
  dst: "61280001234",
  caller_id_number: "61298765432",
  caller_name: "ACME PTY LTD",
  did: "61280001234",
  start_at: "2026-11-19T22:15:02.000Z",
  queue_name: "Sales",
  agent: JANE,
};

/** The expected normalized event of each fixture. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  user_inbound: {
    ...INBOUND_CALL,
    type: "call.ringing",
    occurred_at: "2026-11-19T22:15:02.000Z",
    status: "ringing",
    dedupe_key: "user_inbound|1700000000.5521|201",
  },
  user_inbound_answered: {
    ...INBOUND_CALL,
    type: "call.answer",
    occurred_at: "2026-11-19T22:15:09.000Z",
    status: "answered",
    answer_at: "2026-11-19T22:15:09.000Z",
    bridged: true,
    dedupe_key: "user_inbound_answered|1700000000.5521|201",
  },
  user_inbound_completed: {
    ...INBOUND_CALL,
    type: "call.end",
    occurred_at: "2026-11-19T22:18:09.000Z",
    status: "answered",
    answer_at: "2026-11-19T22:15:09.000Z",
    end_at: "2026-11-19T22:18:09.000Z",
    duration: 187,
    bill_duration: 180,
    bridged: true,
    hangup_cause: "ANSWERED",
    dedupe_key: "user_inbound_completed|1700000000.5521|201",
  },
  user_outbound_completed: {
    ...EMPTY,
    type: "call.end",
    uniqueid: "1700000123.77",
    occurred_at: "2026-11-19T23:02:12.000Z",
    direction: "outbound",
    status: "answered",
    src: "202",
    dst: "61411222333",
    caller_id_number: "61280001234",
    start_at: "2026-11-19T23:01:00.000Z",
    answer_at: "2026-11-19T23:01:12.000Z",
    end_at: "2026-11-19T23:02:12.000Z",
    duration: 72,
    bill_duration: 60,
    bridged: true,
    hangup_cause: "ANSWERED",
    agent: { name: "Tom Lee", extension: "202", email: null },
    dedupe_key: "user_outbound_completed|1700000123.77|202",
  },
  queue_call: {
    ...EMPTY,
    type: "call.report",
    uniqueid: "1700000456.12",
    occurred_at: "2026-11-20T00:30:45.000Z",
    direction: "inbound",
    status: "canceled",
    src: "61255550000",
    dst: "61280001234",
    caller_id_number: "61255550000",
    did: "61280001234",
    start_at: "2026-11-20T00:30:00.000Z",
    end_at: "2026-11-20T00:30:45.000Z",
    duration: 45,
    bill_duration: 0,
    bridged: false,
    hangup_cause: "CANCELED",
    hangup_initiator: "caller",
    queue_name: "Support",
    dedupe_key: "queue_call|1700000456.12",
  },
  voicemail: {
    ...EMPTY,
    type: "voicemail",
    uniqueid: "1700000789.3",
    occurred_at: "2026-11-20T07:45:10.000Z",
    direction: "inbound",
    status: "voicemail",
    src: "61299990000",
    dst: "61280001234",
    caller_id_number: "61299990000",
    did: "61280001234",
    bridged: false,
    dedupe_key: "voicemail|1700000789.3|2026-11-20T18:45:10+11:00",
  },
};

describe("VoIPcloud normalize: the fixtures", () => {
  itNormalizesEachFixture(FIXTURES, fixture, one, EXPECTED);
});

describe("VoIPcloud normalize: variants", () => {
  it("reads durations sent as numeric strings", () => {
    const event = one({ ...fixture("user_inbound_completed"), call_duration: "187", conversation_duration: "180" });
    expect(event).toMatchObject({ duration: 187, bill_duration: 180, end_at: "2026-11-19T22:18:09.000Z", status: "answered" });
  });

  it("takes the alias user_user_inbound_answered as user_inbound_answered, deduplicated as the same event", () => {
    const original = fixture("user_inbound_answered");
    const alias = one({ ...original, type: "user_user_inbound_answered" });
    expect(alias.type).toBe("call.answer");
    expect(alias.dedupe_key).toBe(one(original).dedupe_key);
    expect(callFieldsOf(alias as any)).toEqual(callFieldsOf(one(original) as any));
  });

  it("ends an unanswered inbound call as no_answer / NO_ANSWER, empty strings read as absent", () => {
    const event = one({ ...fixture("user_inbound_completed"), connected_at: "", conversation_duration: 0, queue_name: "", caller_name: "" });
    expect(event).toMatchObject({
      type: "call.end",
      status: "no_answer",
      hangup_cause: "NO_ANSWER",
      bridged: false,
      answer_at: null,
      bill_duration: 0,
      queue_name: null,
      caller_name: null,
    });
  });

  it("ends an unanswered outbound call as no_answer / NO_ANSWER too (VoIPcloud does not say why)", () => {
    const event = one({ ...fixture("user_outbound_completed"), connected_at: "", conversation_duration: "0" });
    expect(event).toMatchObject({ direction: "outbound", status: "no_answer", hangup_cause: "NO_ANSWER", bridged: false });
  });

  it("counts a call as answered by its conversation time when connected_at is missing", () => {
    const { connected_at: _c, ...payload } = fixture("user_inbound_completed");
    expect(one(payload)).toMatchObject({ status: "answered", hangup_cause: "ANSWERED", answer_at: null, bridged: true });
  });

  it("reads an invalid number as null instead of refusing the event", () => {
    const event = one({ ...fixture("user_inbound_completed"), call_duration: "abc", conversation_duration: -3 });
    expect(event).toMatchObject({ type: "call.end", duration: null, bill_duration: null, end_at: null, status: "answered" });
    // Without an end time, the event happened when it arrived.
    expect(event.occurred_at).toBe(RECEIVED_AT);
  });

  it("keeps an event with only its type and call id", () => {
    expect(one({ type: "user_inbound", unique_call_id: "9.9" })).toEqual({
      ...EMPTY,
      type: "call.ringing",
      uniqueid: "9.9",
      occurred_at: RECEIVED_AT,
      direction: "inbound",
      status: "ringing",
      dedupe_key: "user_inbound|9.9",
      raw: { type: "user_inbound", unique_call_id: "9.9" },
    });
  });

  it("maps user_outbound to call.start from the user's extension", () => {
    const payload = {
      type: "user_outbound",
      unique_call_id: "1700000123.77",
      caller_id: "61280001234",
      user_name: "Tom Lee",
      user_number: "202",
      dest_number: "61411222333",
      call_start_at: "2026-11-20T10:01:00+11:00",
    };
    expect(one(payload)).toEqual({
      ...EMPTY,
      type: "call.start",
      uniqueid: "1700000123.77",
      occurred_at: "2026-11-19T23:01:00.000Z",
      direction: "outbound",
      status: "ringing",
      src: "202",
      dst: "61411222333",
      caller_id_number: "61280001234",
      start_at: "2026-11-19T23:01:00.000Z",
      agent: { name: "Tom Lee", extension: "202", email: null },
      dedupe_key: "user_outbound|1700000123.77|202",
      raw: payload,
    });
    const { user_number: _n, ...noExtension } = payload;
    expect(one(noExtension).src).toBe("61280001234");
  });

  it("maps user_outbound_answered to call.answer at connected_at", () => {
    const event = one({ ...fixture("user_outbound_completed"), type: "user_outbound_answered", call_duration: undefined, conversation_duration: undefined });
    expect(event).toMatchObject({
      type: "call.answer",
      direction: "outbound",
      status: "answered",
      hangup_cause: null,
      bridged: true,
      occurred_at: "2026-11-19T23:01:12.000Z",
      answer_at: "2026-11-19T23:01:12.000Z",
      end_at: null,
    });
  });

  it("maps queue and ring group summaries by their status", () => {
    const answered = one({
      ...fixture("queue_call"),
      status: "answered",
      user_name: "Jane Smith",
      user_number: "201",
      connected_at: "2026-11-20T11:30:20+11:00",
      conversation_duration: "25",
    });
    expect(answered).toMatchObject({
      type: "call.report",
      status: "answered",
      hangup_cause: "ANSWERED",
      hangup_initiator: null,
      bridged: true,
      answer_at: "2026-11-20T00:30:20.000Z",
      bill_duration: 25,
      agent: JANE,
      dedupe_key: "queue_call|1700000456.12|201",
    });

    const { queue_name: _q, ...groupCall } = fixture("queue_call");
    const timedOut = one({ ...groupCall, type: "ring_group_call", ring_group_name: "Front desk", status: "timedout" });
    expect(timedOut).toMatchObject({
      type: "call.report",
      status: "no_answer",
      hangup_cause: "NO_ANSWER",
      hangup_initiator: "system",
      bridged: false,
      queue_name: null,
      ring_group_name: "Front desk",
      occurred_at: "2026-11-20T00:30:45.000Z",
    });
  });

  it("maps call recordings, their direction from the type name", () => {
    const payload = {
      type: "recording_outbound",
      unique_call_id: "1700000123.77",
      caller_id: "61280001234",
      user_name: "Tom Lee",
      user_number: "202",
      dest_number: "61411222333",
      recorded_at: "2026-11-20T10:02:13+11:00",
      emails: "tom@example.com.au",
      email_subject: "Call recording",
      call_recording_link: "https://recordings.example.com.au/1700000123.77.mp3",
      email_message: "",
      mode: "storage",
    };
    expect(one(payload)).toEqual({
      ...EMPTY,
      type: "recording",
      uniqueid: "1700000123.77",
      occurred_at: "2026-11-19T23:02:13.000Z",
      direction: "outbound",
      src: "202",
      dst: "61411222333",
      caller_id_number: "61280001234",
      public_recording: "https://recordings.example.com.au/1700000123.77.mp3",
      agent: { name: "Tom Lee", extension: "202", email: null },
      dedupe_key: "recording_outbound|1700000123.77|202|2026-11-20T10:02:13+11:00",
      raw: payload,
    });
    const inbound = one({ ...fixture("voicemail"), type: "recording_inbound", call_recording_link: "ftp://x/y.wav" });
    expect(inbound).toMatchObject({ type: "recording", direction: "inbound", status: null, src: "61299990000", public_recording: null });
  });

  it("maps the webhook component to call.update: the caller in user_name/user_number, the component in tags", () => {
    const payload = {
      type: "webhook_component_event",
      unique_call_id: "1700000999.1",
      user_name: "ACME PTY LTD",
      user_number: "61298765432",
      dest_number: "61280001234",
      call_start_at: "2026-11-20T09:15:02+11:00",
      component_name: "CRM lookup",
    };
    expect(one(payload)).toEqual({
      ...EMPTY,
      type: "call.update",
      uniqueid: "1700000999.1",
      occurred_at: "2026-11-19T22:15:02.000Z",
      direction: "inbound",
      src: "61298765432",
      dst: "61280001234",
      caller_id_number: "61298765432",
      caller_name: "ACME PTY LTD",
      did: "61280001234",
      start_at: "2026-11-19T22:15:02.000Z",
      tags: ["component:CRM lookup"],
      dedupe_key: "webhook_component_event|1700000999.1|61298765432|CRM lookup",
      raw: payload,
    });
  });

  it("stores an unknown type, or an object without one, as unmapped", () => {
    const unknown = { type: "user_inbound_transferred", unique_call_id: "77.1", caller_id: "612" };
    expect(one(unknown)).toEqual({
      ...EMPTY,
      type: "unmapped",
      uniqueid: "77.1",
      occurred_at: RECEIVED_AT,
      dedupe_key: "user_inbound_transferred|77.1",
      raw: unknown,
    });
    const untyped = { hello: "world" };
    expect(one(untyped)).toMatchObject({ type: "unmapped", uniqueid: "unknown", occurred_at: RECEIVED_AT, dedupe_key: expect.stringMatching(/^json:[0-9a-f]{16}:17$/) });
  });

  it("refuses an array or a non-object with a 400 that says what was expected", () => {
    for (const payload of [[fixture("user_inbound")], "user_inbound", 42, null]) expectOneObjectRequired(() => normalize(payload));
  });

  it("never throws on values the canonical schema refuses: the event is kept, its raw payload whole", () => {
    // An absurd value the readers pass on (text over 2,048 characters) keeps the event as unmapped, the reason in its tags.
    const long = one({ ...fixture("user_inbound"), caller_name: "x".repeat(5000), unique_call_id: "9".repeat(400) });
    expect(long).toMatchObject({ type: "unmapped", uniqueid: "9".repeat(256), tags: [expect.stringContaining("caller_name")] });
    expect(long.raw).toMatchObject({ caller_name: "x".repeat(5000) });
    const farFuture = one({ ...fixture("user_inbound"), call_start_at: "+100000-01-01T00:00:00Z" });
    expect(farFuture).toMatchObject({ type: "call.ringing", start_at: null, occurred_at: RECEIVED_AT });
  });
});

describe("VoIPcloud verify", () => {
  const request = (headers: Record<string, string>) => ({ headers: new Headers(headers), body: new Uint8Array(), query: {} });

  it("accepts X-Pbx-Token equal to the secret, whatever the header's case", async () => {
    expect(await voipcloudSource.verify(request({ "X-Pbx-Token": "s3cret" }), "s3cret")).toBe(true);
    expect(await voipcloudSource.verify(request({ "x-pbx-token": "s3cret" }), "s3cret")).toBe(true);
  });

  it("refuses a wrong, missing or differently carried token", async () => {
    expect(await voipcloudSource.verify(request({ "X-Pbx-Token": "s3cre" }), "s3cret")).toBe(false);
    expect(await voipcloudSource.verify(request({}), "s3cret")).toBe(false);
    expect(await voipcloudSource.verify(request({ authorization: "Bearer s3cret" }), "s3cret")).toBe(false);
    expect(await voipcloudSource.verify({ ...request({}), query: { token: "s3cret" } }, "s3cret")).toBe(false);
  });
});

describe("VoIPcloud through the running gateway", () => {
  const SECRET = "vc-global-webhook-token-42";

  const t = gatewayPerTest({ source: { name: "VoIPcloud PBX", kind: "voipcloud", secret: SECRET } });

  /** Posts a payload the way VoIPcloud does: JSON with the secret token in X-Pbx-Token. */
  const post = (payload: unknown, token = SECRET, body = JSON.stringify(payload)) =>
    t.gw.send(`/ingest/${t.source.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Pbx-Token": token },
      body,
    });
  const events = async (query = "") => (await t.gw.api("GET", `/api/events${query}`)).body.data;

  it("stores every fixture as its canonical event with the raw payload unchanged", async () => {
    for (const name of FIXTURES) {
      const payload = fixture(name);
      const answer = await post(payload);
      expect(answer.status, name).toBe(202);
      const stored = await t.gw.api("GET", `/api/events/${answer.body.event_id}`);
      expect(stored.status).toBe(200);
      const { dedupe_key: _key, ...expected } = EXPECTED[name];
      expect(stored.body).toMatchObject({
        ...expected,
        event_id: answer.body.event_id,
        source: "voipcloud",
        source_id: t.source.id,
      });
      expect(stored.body.raw).toEqual(payload);
    }
    expect(await events()).toHaveLength(FIXTURES.length);
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
    // Two of the six fixtures are call.end: the inbound and the outbound completion.
    expect(t.receiver.requests).toHaveLength(2);
    const queries = t.receiver.requests.map((r) => ({ method: r.method, path: r.path, query: Object.fromEntries(r.query) }));
    expect(queries).toEqual([
      { method: "GET", path: "/crm/calls", query: { phone: "61298765432", agent: "201", talk: "180" } },
      { method: "GET", path: "/crm/calls", query: { phone: "202", agent: "202", talk: "60" } },
    ]);
  });

  it("refuses a wrong or missing token with 401 and stores nothing", async () => {
    const wrong = await post(fixture("user_inbound_completed"), "not-the-token");
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("unauthorized");
    expect(wrong.body.error.message).toContain("send X-Pbx-Token: <secret> (the Secret Token of the PBX's Global Webhooks)");
    const bearer = await t.gw.send(`/ingest/${t.source.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
      body: JSON.stringify(fixture("user_inbound_completed")),
    });
    expect(bearer.status).toBe(401);
    expect(await events()).toEqual([]);
  });

  it("answers a body that is not JSON, or not one object, with 400", async () => {
    const broken = await post(undefined, SECRET, '{"type": "user_inbound",');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_json");
    const array = await post([fixture("user_inbound")]);
    expect(array.status).toBe(400);
    expect(array.body.error.code).toBe("invalid_request");
    expect(array.body.error.message).toContain("one JSON object");
    expect(await events()).toEqual([]);
  });

  it("stores a PBX retry once and answers it with the first event_id", async () => {
    await createWebhook(t.gw, { events: ["call.end"], url: `${t.receiver.url}/hook` });
    const first = await post(fixture("user_inbound_completed"));
    const retry = await post(fixture("user_inbound_completed"));
    const alias = await post({ ...fixture("user_inbound_answered"), type: "user_user_inbound_answered" });
    const answered = await post(fixture("user_inbound_answered"));
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ event_id: first.body.event_id, deliveries: 1, duplicate: true });
    expect(answered.body).toMatchObject({ event_id: alias.body.event_id, duplicate: true });
    expect(await events()).toHaveLength(2);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
  });

  it("stores each webhook component of a call flow, and a retry of one once", async () => {
    await createWebhook(t.gw, { events: ["call.update"], url: `${t.receiver.url}/hook` });
    const component = (name: string) => ({
      type: "webhook_component_event",
      unique_call_id: "1700000999.1",
      user_name: "ACME PTY LTD",
      user_number: "61298765432",
      dest_number: "61280001234",
      call_start_at: "2026-11-20T09:15:02+11:00",
      component_name: name,
    });
    const lookup = await post(component("CRM lookup"));
    const afterHours = await post(component("After hours"));
    const retry = await post(component("After hours"));
    expect(lookup.body).toEqual({ event_id: expect.any(String), deliveries: 1 });
    expect(afterHours.body).toEqual({ event_id: expect.any(String), deliveries: 1 });
    expect(afterHours.body.event_id).not.toBe(lookup.body.event_id);
    expect(retry.body).toEqual({ event_id: afterHours.body.event_id, deliveries: 1, duplicate: true });
    const tags = (await events()).map((e: { tags: string[] }) => e.tags[0]).sort();
    expect(tags).toEqual(["component:After hours", "component:CRM lookup"]);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(2);
  });

  it("stores an unknown event type as unmapped, listed by type, with no delivery", async () => {
    await createWebhook(t.gw, { events: ["call.end", "call.update", "call.report"], url: `${t.receiver.url}/hook` });
    const payload = { type: "user_inbound_transferred", unique_call_id: "77.1", caller_id: "61298765432" };
    const answer = await post(payload);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ event_id: expect.any(String), deliveries: 0 });
    const unmapped = await events("?type=unmapped");
    expect(unmapped.map((e: { event_id: string }) => e.event_id)).toEqual([answer.body.event_id]);
    const stored = await t.gw.api("GET", `/api/events/${answer.body.event_id}`);
    expect(stored.body).toMatchObject({ type: "unmapped", uniqueid: "77.1", raw: payload, deliveries: [] });
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(0);
  });
});

import { createHmac } from "node:crypto";
import { projectJson } from "./support/files.js";
import { describe, expect, it } from "vitest";
import { createWebhook } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";

const SECRET = "wildix-generated-secret-5f2a";
const fixture = (name: string) =>
  projectJson(`test/fixtures/wildix/${name}.json`);

const t = gatewayPerTest({ source: { name: "Wildix PBX", kind: "wildix", secret: SECRET } });

/** Posts the exact bytes Wildix would, with `x-signature` = hex HMAC-SHA256 of them keyed by the secret. */
function post(payload: unknown, secret = SECRET) {
  const body = JSON.stringify(payload);
  return t.gw.send(`/ingest/${t.source.id}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-signature": createHmac("sha256", secret).update(body).digest("hex") },
    body,
  });
}

async function stored(eventId: string) {
  return (await t.gw.api("GET", `/api/events/${eventId}`)).body;
}

/** A call from a remote number to extension 201, in Wildix's shape. */
function inboundCall(type: string, time: number, data: Record<string, unknown> = {}) {
  return {
    id: "it_w118741_1700000000.42",
    pbx: "221100001bab",
    time,
    company: "it_w118741",
    type,
    integrationId: "8qkmnq",
    data: {
      status: "CONNECTING",
      caller: { type: "REMOTE", phone: "+15551234567", name: "Jane Customer", email: null, userExtension: null },
      callee: { type: "LOCAL", phone: "201", name: "Alex Agent", email: "alex@example.com", userExtension: "201" },
      destination: "+15557654321",
      queueName: "Sales",
      tags: ["vip"],
      endCause: null,
      endBy: null,
      ...data,
    },
  };
}

describe("Wildix source", () => {
  it("maps the documented start, update and end payloads, computing durations from the call's events", async () => {
    const start = await post(fixture("call-start"));
    const update = await post(fixture("call-update"));
    const end = await post(fixture("call-end"));
    expect([start.status, update.status, end.status]).toEqual([202, 202, 202]);

    const started = await stored(start.body.event_id);
    expect(started).toMatchObject({
      type: "call.start",
      source: "wildix",
      uniqueid: "it_w118741_1693389850.110",
      occurred_at: "2023-08-30T10:04:10.810Z",
      direction: "internal",
      status: "ringing",
      src: "1001",
      dst: "10020",
      caller_name: "admin",
      agent: { name: "admin", extension: "1001", email: "vladimir.gorobets@wildix.com" },
      start_at: "2023-08-30T10:04:10.810Z",
    });
    expect(started.raw).toEqual(fixture("call-start"));

    expect((await stored(update.body.event_id)).type).toBe("call.update");

    const ended = await stored(end.body.event_id);
    expect(ended).toMatchObject({
      type: "call.end",
      direction: "internal",
      status: "canceled",
      hangup_cause: "CANCELED",
      hangup_cause_code: "21",
      hangup_initiator: "caller",
      start_at: "2023-08-30T10:04:10.810Z",
      answer_at: null,
      end_at: "2023-08-30T10:04:13.611Z",
      duration: 3,
      bill_duration: 0,
      bridged: false,
    });
  });

  it("turns the first talking update into call.answer and bills from it", async () => {
    const t0 = Date.parse("2026-11-20T14:03:00Z");
    await post(inboundCall("call:start", t0));
    const answered = await post(inboundCall("call:update", t0 + 12_000, { status: "TALKING" }));
    const held = await post(inboundCall("call:update", t0 + 60_000, { status: "HOLD" }));
    const end = await post(inboundCall("call:end", t0 + 340_000, { status: "TALKING", endCause: "16", endBy: "CALLEE" }));

    expect((await stored(answered.body.event_id)).type).toBe("call.answer");
    expect((await stored(held.body.event_id)).type).toBe("call.update");
    expect(await stored(end.body.event_id)).toMatchObject({
      type: "call.end",
      direction: "inbound",
      status: "answered",
      hangup_cause: "ANSWERED",
      hangup_initiator: "callee",
      src: "+15551234567",
      dst: "201",
      did: "+15557654321",
      queue_name: "Sales",
      tags: ["vip"],
      agent: { name: "Alex Agent", extension: "201", email: "alex@example.com" },
      answer_at: "2026-11-20T14:03:12.000Z",
      duration: 340,
      bill_duration: 328,
      bridged: true,
    });
  });

  it("keeps two different updates sent in the same millisecond, and stores a retry of either once", async () => {
    // The vendor's own samples give a call's start and update the same `time`.
    const t0 = Date.parse("2026-11-20T14:03:00Z");
    await post(inboundCall("call:start", t0));
    const connecting = await post(inboundCall("call:update", t0 + 5_000, { status: "CONNECTING" }));
    const talking = await post(inboundCall("call:update", t0 + 5_000, { status: "TALKING" }));
    const retry = await post(inboundCall("call:update", t0 + 5_000, { status: "TALKING" }));
    expect(talking.body.duplicate).toBeUndefined();
    expect(talking.body.event_id).not.toBe(connecting.body.event_id);
    expect(retry.body).toEqual({ event_id: talking.body.event_id, deliveries: 0, duplicate: true });
    expect(await stored(talking.body.event_id)).toMatchObject({ type: "call.answer", answer_at: "2026-11-20T14:03:05.000Z" });
    expect((await t.gw.api("GET", "/api/events")).body.data).toHaveLength(3);
  });

  it("maps unanswered end causes to the PBX Stats vocabulary", async () => {
    const t0 = Date.parse("2026-11-21T09:00:00Z");
    const causes: Array<[string, string, string]> = [["17", "busy", "BUSY"], ["19", "no_answer", "NO_ANSWER"], ["34", "failed", "FAILED"]];
    for (const [index, [code, status, cause]] of causes.entries()) {
      const call = { ...inboundCall("call:end", t0 + index, { endCause: code, endBy: null }), id: `call-${code}` };
      const answer = await post(call);
      expect(await stored(answer.body.event_id)).toMatchObject({ status, hangup_cause: cause, hangup_initiator: "system" });
    }
  });

  it("maps the live envelopes from their latest flow", async () => {
    const live = {
      id: "it_w118741_1700000099.1",
      time: Date.parse("2026-11-21T10:00:30Z"),
      type: "call:live:completed",
      data: {
        flows: [
          { status: "CONNECTING", caller: { type: "LOCAL", phone: "202", name: "Tom", userExtension: "202" }, callee: null, destination: "+442071234567" },
          { status: "TALKING", caller: { type: "LOCAL", phone: "202", name: "Tom", userExtension: "202" }, callee: { type: "REMOTE", phone: "+442071234567" }, endCause: "16", endBy: "CALLER" },
        ],
      },
    };
    const answer = await post(live);
    expect(await stored(answer.body.event_id)).toMatchObject({
      type: "call.end",
      direction: "outbound",
      status: "answered",
      dst: "+442071234567",
      agent: { name: "Tom", extension: "202" },
      hangup_initiator: "caller",
    });
  });

  it("reads a live call's direction, start, answer and durations from its flows (the documented call:live:progress)", async () => {
    // docs.wildix.com/docs/calls/webhooks: a call that has just started, already HOLD, with no talk time yet.
    const john = {
      type: "LOCAL", phone: "230", name: "John Doe", email: "johndoe@example.com", userId: "1236286", userExtension: "230",
      userDepartment: "Sales", groupId: "1238467", groupName: "Gamma", userDevice: "XBEES_WEB", role: "AGENT", license: "premium",
    };
    const progress = {
      id: "it_w000001_1721984075.0",
      pbx: "000000000001",
      company: "it_w000001",
      time: 1721984076400,
      type: "call:live:progress",
      integrationId: "pa67xt",
      data: {
        id: "it_w119417_1721984075.0",
        pbx: "000000000001",
        time: 1721984076338,
        company: "it_w000001",
        licenses: ["x-bees"],
        event: "call",
        eventTrigger: "call.start",
        start: "2024-07-26T08:54:36.337Z",
        flows: [
          {
            flowIndex: 0, duration: 0, connectTime: 0, talkTime: 0, waitTime: 0, caller: john,
            destination: "+159255512345", direction: "INTERNAL", remotePhone: "+159255512345", status: "HOLD",
          },
        ],
      },
    };
    const started = await post(progress);
    expect(await stored(started.body.event_id)).toMatchObject({
      type: "call.update",
      direction: "internal",
      status: "ringing",
      src: "230",
      dst: "+159255512345",
      agent: { name: "John Doe", extension: "230", email: "johndoe@example.com" },
      start_at: "2024-07-26T08:54:36.337Z",
      answer_at: null,
      bridged: false,
      duration: 0,
      bill_duration: 0,
    });

    // Ringing for 3 s: time before the answer, not talk.
    const ringing = await post({ ...progress, time: 1721984079400, data: { ...progress.data, flows: [{ ...progress.data.flows[0], duration: 3000, connectTime: 3000 }] } });
    expect(await stored(ringing.body.event_id)).toMatchObject({ type: "call.update", status: "ringing", answer_at: null });

    // The same call later, shaped as the analytics call:completed flows: ms epoch start, ms durations.
    const flow = {
      flowIndex: 0, startTime: 1721984076337, endTime: 1721984099012, duration: 22675, connectTime: 5084, talkTime: 9033, waitTime: 8558,
      caller: john, callee: { type: "REMOTE", phone: "+15955555123", name: "+15955555123", role: "CLIENT" },
      destination: "+15955555123", direction: "OUTBOUND", remotePhone: "+15955555123", callStatus: "COMPLETED",
    };
    const talking = await post({ ...progress, time: 1721984090000, data: { ...progress.data, eventTrigger: "call.update", flows: [{ ...flow, status: "TALKING" }] } });
    const completed = await post({ ...progress, time: 1721984099100, type: "call:live:completed", data: { ...progress.data, flows: [flow], endCause: "16", endBy: "CALLEE" } });
    expect((await stored(talking.body.event_id)).type).toBe("call.answer");
    expect(await stored(completed.body.event_id)).toMatchObject({
      type: "call.end",
      direction: "outbound",
      status: "answered",
      hangup_cause: "ANSWERED",
      hangup_initiator: "callee",
      dst: "+15955555123",
      start_at: "2024-07-26T08:54:36.337Z",
      answer_at: "2024-07-26T08:54:50.000Z",
      duration: 23,
      bill_duration: 9,
      bridged: true,
    });
  });

  it("sends what a matching webhook renders from a Wildix call", async () => {
    await createWebhook(t.gw, {
      method: "GET",
      url: `${t.receiver.url}/crm`,
      call_types: ["inbound"],
      params: { phone: "src", agent: "agent.extension", talk: "bill_duration", result: "hangup_cause" },
      hangup_causes: { ANSWERED: "Answered" },
    });
    const t0 = Date.parse("2026-11-20T14:03:00Z");
    await post(inboundCall("call:start", t0));
    await post(inboundCall("call:update", t0 + 12_000, { status: "TALKING" }));
    const end = await post(inboundCall("call:end", t0 + 340_000, { status: "TALKING", endCause: "16", endBy: "CALLER" }));
    expect(end.body.deliveries).toBe(1);
    await t.gw.settle();
    expect(Object.fromEntries(t.receiver.requests[0].query)).toEqual({
      phone: "+15551234567",
      agent: "201",
      talk: "328",
      result: "Answered",
    });
  });

  it("refuses a wrong or missing signature with 401 and stores nothing", async () => {
    expect((await post(fixture("call-start"), "not-the-secret")).status).toBe(401);
    const unsigned = await t.gw.send(`/ingest/${t.source.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
      body: JSON.stringify(fixture("call-start")),
    });
    expect(unsigned.status).toBe(401);
    expect((await t.gw.api("GET", "/api/events")).body.data).toEqual([]);
  });

  it("stores a retried event once and keeps an unknown type as unmapped", async () => {
    const first = await post(fixture("call-end"));
    const retry = await post(fixture("call-end"));
    expect(retry.body).toEqual({ event_id: first.body.event_id, deliveries: 0, duplicate: true });

    await createWebhook(t.gw, { url: `${t.receiver.url}/all`, events: ["call.start", "call.update", "call.end"] });
    const unknown = await post({ ...fixture("call-update"), type: "call:transfer" });
    expect(unknown.status).toBe(202);
    expect(unknown.body.deliveries).toBe(0);
    const unmapped = await t.gw.api("GET", "/api/events?type=unmapped");
    expect(unmapped.body.data.map((e: { event_id: string }) => e.event_id)).toEqual([unknown.body.event_id]);
    expect((await stored(unknown.body.event_id)).raw.type).toBe("call:transfer");
  });

  it("keeps absurd values without failing: an overlong id, a time past year 9999, a huge duration", async () => {
    const longId = await post({ ...fixture("call-start"), id: "x".repeat(300) });
    expect(longId.status).toBe(202);
    expect(await stored(longId.body.event_id)).toMatchObject({ type: "unmapped", uniqueid: "x".repeat(256) });

    const farFuture = await post({ ...fixture("call-start"), id: "far-future", time: 1e20 });
    expect(farFuture.status).toBe(202);
    expect((await stored(farFuture.body.event_id)).occurred_at).toBe(new Date(t.gw.clock.now()).toISOString());
  });

  it("answers a body that is not JSON with 400", async () => {
    const body = "call:start it_w118741";
    const answer = await t.gw.send(`/ingest/${t.source.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": createHmac("sha256", SECRET).update(body).digest("hex") },
      body,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_json");
    const array = await post([fixture("call-start")]);
    expect(array.status).toBe(400);
  });
});

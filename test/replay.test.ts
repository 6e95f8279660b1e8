import { describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { parsePrometheus } from "./support/prometheus.js";

// Events that came in while a rule was off, or before it was made, made no delivery of it:
// `POST /api/webhooks/:id/replay-missing` makes one of each it takes now. Shared with the workerd suite: on
// Workers they are inserted into D1 and go out through the Queue.

const t = gatewayPerTest();

const iso = (ms: number) => new Date(ms).toISOString();
const replay = (rule: { id: string }, body: unknown) => t.gw.api("POST", `/api/webhooks/${rule.id}/replay-missing`, body);
const metrics = async () => parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body);
const setEnabled = async (rule: { id: string }, enabled: boolean) => expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { enabled })).status).toBe(200);
/** The calls (uniqueid) the receiver was sent at `path`, sorted: those handed over together go out side by side. */
const callsAt = (path: string) =>
  t.receiver.requests
    .filter((r) => r.path === path)
    .map((r) => JSON.parse(r.body).call)
    .sort();

/** Ingests the events (one request) and returns their ids, in order. */
async function ingested(events: Array<Record<string, unknown>>): Promise<string[]> {
  const answer = await ingest(t.gw, t.source, events);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body.events.map((e: { event_id: string }) => e.event_id);
}

/** The rule's deliveries of the event. */
async function deliveriesOfRule(eventId: string, rule: { id: string }) {
  return (await deliveriesOf(t.gw, eventId)).filter((d) => d.webhook_id === rule.id);
}

/** Calls replay from the start of the window, then again with each answer's cursor while it says `more`. */
async function replayAll(rule: { id: string }, window: { since: string; until?: string }) {
  const pages = [];
  for (let cursor: string | undefined; ; ) {
    const answer = await replay(rule, { ...window, cursor });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    pages.push(answer.body);
    if (!answer.body.more) return pages;
    cursor = answer.body.next_cursor;
  }
}

const CALL_BODY = '{"call": "{{uniqueid}}"}';

describe("replaying the events a rule missed", () => {
  it("sends each event it takes now and has no delivery of once, rendered from the rule as it is now; a second call sends nothing", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: CALL_BODY, filter: 'direction = "inbound"' });
    const other = await createWebhook(t.gw, { url: `${t.receiver.url}/other`, body_template: CALL_BODY, events: ["call.end", "call.start"] });
    const since = t.gw.clock.now();
    const [delivered] = await ingested([callEvent({ uniqueid: "before-off" })]);
    await t.gw.settle();

    await setEnabled(rule, false);
    const missed = [callEvent({ uniqueid: "missed-1" }), callEvent({ uniqueid: "missed-2" })];
    const notTaken = [callEvent({ uniqueid: "a-start", type: "call.start" }), callEvent({ uniqueid: "outbound", direction: "outbound" })];
    const [missed1, start, outbound] = await ingested([missed[0], notTaken[0], notTaken[1], missed[1]]);
    // A test send (through another rule) is an event of its own that this rule would take: never replayed.
    expect((await t.gw.api("POST", `/api/webhooks/${other.id}/test`, { event_id: missed1 })).status).toBe(202);
    await t.gw.settle();
    // Changed while off: what is sent now is rendered from the rule as it is now.
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { body_template: '{"call": "{{uniqueid}}", "v": 2}' })).status).toBe(200);
    await setEnabled(rule, true);
    expect(callsAt("/crm")).toEqual(["before-off"]);
    const created = (await metrics()).value("gateway_deliveries_created_total")!;

    const answer = await replay(rule, { since: iso(since) });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ replayed: 2, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();

    expect(callsAt("/crm")).toEqual(["before-off", "missed-1", "missed-2"]);
    const replayedBodies = t.receiver.requests.filter((r) => r.path === "/crm").map((r) => JSON.parse(r.body)).filter((body) => body.call !== "before-off");
    expect(replayedBodies.map((body) => body.v)).toEqual([2, 2]);
    expect(await deliveriesOfRule(missed1, rule)).toEqual([expect.objectContaining({ status: "delivered", attempt_count: 1 })]);
    // The one it had, and those it does not take (another type, its filter), have none made.
    expect(await deliveriesOfRule(delivered, rule)).toHaveLength(1);
    for (const id of [start, outbound]) expect(await deliveriesOfRule(id, rule)).toEqual([]);
    // Counted as deliveries ingest makes are.
    const counted = await metrics();
    expect(counted.value("gateway_deliveries_created_total")).toBe(created + 2);

    const again = await replay(rule, { since: iso(since) });
    expect(again.body).toEqual({ replayed: 0, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(callsAt("/crm")).toEqual(["before-off", "missed-1", "missed-2"]);
  });

  it("takes only the events received in the window: from since, up to (not including) until", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: CALL_BODY, enabled: false });
    await ingested([callEvent({ uniqueid: "before" })]);
    t.gw.clock.advance(60_000);
    const since = t.gw.clock.now();
    await ingested([callEvent({ uniqueid: "first" })]);
    t.gw.clock.advance(30_000);
    await ingested([callEvent({ uniqueid: "second" })]);
    t.gw.clock.advance(30_000);
    const until = t.gw.clock.now();
    await ingested([callEvent({ uniqueid: "at-until" })]);
    await setEnabled(rule, true);

    expect((await replay(rule, { since: iso(since), until: iso(until) })).body).toEqual({ replayed: 2, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(callsAt("/crm")).toEqual(["first", "second"]);
  });

  it("looks at a page of events at a time, whether the rule takes them or not, oldest first, each once", async () => {
    // A small page (REPLAY_PAGE in a deployment), so that a few events make several pages.
    await t.gw.stop();
    const PAGE = 3;
    t.gw = await startGateway({ replayPage: PAGE });
    t.source = await createSource(t.gw);
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: CALL_BODY, enabled: false });
    const since = t.gw.clock.now();
    // The first page holds no event it takes: the answer still goes on after them.
    const starts = [1, 2, 3].map((n) => callEvent({ uniqueid: `start-${n}`, type: "call.start" }));
    const ends = [1, 2, 3, 4, 5].map((n) => callEvent({ uniqueid: `end-${n}` }));
    const ids = await ingested([...starts, ...ends]);
    await setEnabled(rule, true);

    const first = await replay(rule, { since: iso(since) });
    expect(first.body).toEqual({ replayed: 0, render_failed: 0, more: true, next_cursor: ids[2] });
    const second = await replay(rule, { since: iso(since), cursor: first.body.next_cursor });
    expect(second.body).toEqual({ replayed: 3, render_failed: 0, more: true, next_cursor: ids[5] });
    await t.gw.settle();
    expect(callsAt("/crm")).toEqual(["end-1", "end-2", "end-3"]);
    const third = await replay(rule, { since: iso(since), cursor: second.body.next_cursor });
    expect(third.body).toEqual({ replayed: 2, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(callsAt("/crm")).toEqual(["end-1", "end-2", "end-3", "end-4", "end-5"]);

    // From the start again: every page looks, none sends.
    expect((await replayAll(rule, { since: iso(since) })).map((p) => p.replayed)).toEqual([0, 0, 0]);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(5);
  });

  it("ends a page before the events it would read whole pass its bytes; one larger than that alone is a page of its own", async () => {
    // A small bound (REPLAY_PAGE_BYTES in a deployment): each event here is some 11.5 KB stored, two fit, three do not.
    await t.gw.stop();
    t.gw = await startGateway({ replayPageBytes: 30_000 });
    t.source = await createSource(t.gw);
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: CALL_BODY, enabled: false });
    const since = t.gw.clock.now();
    const padded = (uniqueid: string, bytes: number) => callEvent({ uniqueid, notes: "x".repeat(bytes) });
    const ids = await ingested([padded("s1", 10_000), padded("s2", 10_000), padded("s3", 10_000), padded("big", 100_000), padded("s4", 10_000)]);
    await setEnabled(rule, true);

    const pages = await replayAll(rule, { since: iso(since) });
    expect(pages).toEqual([
      { replayed: 2, render_failed: 0, more: true, next_cursor: ids[1] },
      { replayed: 1, render_failed: 0, more: true, next_cursor: ids[2] },
      { replayed: 1, render_failed: 0, more: true, next_cursor: ids[3] },
      { replayed: 1, render_failed: 0, more: false, next_cursor: null },
    ]);
    await t.gw.settle();
    expect(callsAt("/crm")).toEqual(["big", "s1", "s2", "s3", "s4"]);
    // Events the rule has a delivery of are not read whole: they weigh nothing, and all five are one page now.
    expect(await replayAll(rule, { since: iso(since) })).toEqual([{ replayed: 0, render_failed: 0, more: false, next_cursor: null }]);
  });

  it("backfills a rule made after the events: it is sent the calls of before it existed", async () => {
    const since = t.gw.clock.now();
    await ingested([callEvent({ uniqueid: "last-week-1" }), callEvent({ uniqueid: "last-week-2" })]);
    t.gw.clock.advance(7 * 24 * 3600_000);
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: CALL_BODY });
    expect((await replay(rule, { since: iso(since) })).body).toEqual({ replayed: 2, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(callsAt("/crm")).toEqual(["last-week-1", "last-week-2"]);
  });

  it("makes each delivery once when two replays of the same window run at once", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: CALL_BODY, enabled: false });
    const since = t.gw.clock.now();
    const ids = await ingested(Array.from({ length: 8 }, (_, n) => callEvent({ uniqueid: `call-${n}` })));
    await setEnabled(rule, true);

    const answers = await Promise.all([replay(rule, { since: iso(since) }), replay(rule, { since: iso(since) })]);
    for (const answer of answers) expect(answer.status).toBe(202);
    expect(answers[0].body.replayed + answers[1].body.replayed).toBe(ids.length);
    await t.gw.settle();
    const counts = await t.gw.sql("SELECT event_id, count(*) AS n FROM deliveries WHERE webhook_id = ? GROUP BY event_id ORDER BY event_id", [rule.id]);
    expect(counts.map((row) => [row.event_id, Number(row.n)])).toEqual(ids.map((id) => [id, 1]));
    expect(callsAt("/crm")).toEqual(ids.map((_, n) => `call-${n}`).sort());
    expect((await metrics()).value("gateway_deliveries_created_total")).toBe(ids.length);
  });

  it("makes no delivery of an event that a retention pass deleted after the replay read it", async () => {
    // Ids never go back within a process, and earlier tests here moved their clocks on by a week: past that, so
    // that this event's id tells when it came in, as retention reads it.
    t.gw.clock.advance(60 * 24 * 3600_000);
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: CALL_BODY, enabled: false });
    const since = t.gw.clock.now();
    const [id] = await ingested([callEvent({ uniqueid: "old-call" })]);
    await setEnabled(rule, true);
    // Past the retention period (30 days by default): the next pass deletes the event, which has no delivery.
    t.gw.clock.advance(31 * 24 * 3600_000);

    const held = t.gw.holdNextWrite("insert missed deliveries");
    const replaying = replay(rule, { since: iso(since) });
    await held.reached;
    await t.gw.expire();
    expect((await t.gw.api("GET", `/api/events/${id}`)).status).toBe(404);
    held.release();
    expect((await replaying).body).toEqual({ replayed: 0, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(await t.gw.sql("SELECT id FROM deliveries")).toEqual([]);
    expect(t.receiver.requests).toEqual([]);
  });

  it("records one that cannot be rendered as ingest does: failed, with its render failure as its attempt, and counted", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: '{{> (lookup . "direction")}}', enabled: false });
    const since = t.gw.clock.now();
    const [id] = await ingested([callEvent()]);
    await setEnabled(rule, true);

    expect((await replay(rule, { since: iso(since) })).body).toEqual({ replayed: 0, render_failed: 1, more: false, next_cursor: null });
    const [made] = await deliveriesOfRule(id, rule);
    expect(made).toMatchObject({ status: "failed", request: null, attempt_count: 1, last_error: expect.stringMatching(/^render failed: /) });
    expect(made.attempts).toEqual([expect.objectContaining({ number: 1, status_code: null, error: made.last_error })]);
    const counted = await metrics();
    expect(counted.value("gateway_deliveries_failed_total", { reason: "render" })).toBe(1);
    expect(counted.value("gateway_deliveries_created_total")).toBe(1);
    // It has a delivery now: retried by hand or recovered once the template is fixed, never made again.
    expect((await replay(rule, { since: iso(since) })).body).toEqual({ replayed: 0, render_failed: 0, more: false, next_cursor: null });
    expect(await deliveriesOfRule(id, rule)).toHaveLength(1);
    expect(t.receiver.requests).toEqual([]);
  });

  it("refuses a disabled rule, a missing or malformed window or cursor naming the field, and an unknown rule", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, enabled: false });
    const refused = await replay(rule, { since: "2026-11-20T12:00:00Z" });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "conflict", message: `Webhook ${rule.id} is disabled: enable it first, once its receiver takes requests again` });
    await setEnabled(rule, true);

    const fieldsOf = async (body: unknown) => {
      const answer = await replay(rule, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      return answer.body.error.details;
    };
    expect(await fieldsOf({})).toEqual([{ field: "since", message: "is required" }]);
    expect(await fieldsOf({ since: "last week" })).toEqual([{ field: "since", message: "must be an RFC 3339 time with its offset, such as 2026-11-20T12:00:00Z" }]);
    expect(await fieldsOf({ since: "2026-11-20T12:00:00Z", until: "2026-11-20T12:00:00Z" })).toEqual([{ field: "until", message: "must be after since" }]);
    const notCursor = [{ field: "cursor", message: "must be the previous answer's next_cursor, an event id (evt_...)" }];
    for (const cursor of ["garbage", "dlv_01M838XE55N6217ZAVZHM06C8Z", "evt_01m838xe55n6217zavzhm06c8z"]) {
      expect(await fieldsOf({ since: "2026-11-20T12:00:00Z", cursor })).toEqual(notCursor);
    }
    const missing = await t.gw.api("POST", "/api/webhooks/wh_missing/replay-missing", { since: "2026-11-20T12:00:00Z" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("webhook wh_missing not found");
    const unauthorized = await t.gw.send(`/api/webhooks/${rule.id}/replay-missing`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(unauthorized.status).toBe(401);
  });
});

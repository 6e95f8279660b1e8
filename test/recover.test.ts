import { beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { parsePrometheus } from "./support/prometheus.js";

// After a receiver's outage, `POST /api/webhooks/:id/recover` retries a rule's failed deliveries of a window,
// each as a retry by hand does. Shared with the workerd suite: on Workers they go out through the Queue.

/** The receiver answers 503 until this is set. */
let up: boolean;

const t = gatewayPerTest();
beforeEach(() => {
  up = false;
  t.receiver.handler = () => ({ status: up ? 200 : 503 });
});

const iso = (ms: number) => new Date(ms).toISOString();
const recover = (rule: { id: string }, body: unknown) => t.gw.api("POST", `/api/webhooks/${rule.id}/recover`, body);
const delivery = async (id: string) => (await t.gw.api("GET", `/api/deliveries/${id}`)).body;
const metrics = async () => parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body);
/** The idempotency keys (`webhook-id`) of the requests the receiver got from `from` on. */
const keysSince = (from: number) => t.receiver.requests.slice(from).map((r) => r.headers["webhook-id"] as string);

/** Ingests one event, lets every rule try it out of its budget, and returns the delivery `rule` made of it. */
async function failedDeliveryOf(rule: { id: string }): Promise<any> {
  const answer = await ingest(t.gw, t.source, callEvent());
  expect(answer.status).toBe(202);
  await t.gw.settle();
  const made = (await deliveriesOf(t.gw, answer.body.event_id)).find((d) => d.webhook_id === rule.id);
  expect(made).toMatchObject({ status: "failed" });
  return made;
}

/** Calls recover from the start of the window, then again with each answer's cursor while it says `more`. */
async function recoverAll(rule: { id: string }, window: { since: string; until?: string }) {
  const pages = [];
  for (let cursor: string | undefined; ; ) {
    const answer = await recover(rule, { ...window, cursor });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    pages.push(answer.body);
    if (!answer.body.more) return pages;
    cursor = answer.body.next_cursor;
  }
}

describe("recovering a rule's failed deliveries", () => {
  it("retries those created in the window once each, with their own webhook-id; a second call retries nothing more", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, retries: 1 });
    const other = await createWebhook(t.gw, { url: `${t.receiver.url}/other`, retries: 0 });
    const before = await failedDeliveryOf(rule);
    t.gw.clock.advance(60_000);
    const since = t.gw.clock.now();
    const inWindow = [await failedDeliveryOf(rule), await failedDeliveryOf(rule), await failedDeliveryOf(rule)];
    t.gw.clock.advance(60_000);
    const until = t.gw.clock.now();
    const after = await failedDeliveryOf(rule);
    for (const d of inWindow) expect(d).toMatchObject({ attempt_count: 2, max_attempts: 2 });
    const failedBefore = (await metrics()).value("gateway_deliveries_failed_total", { reason: "retries_exhausted" });

    up = true;
    const sent = t.receiver.requests.length;
    const answer = await recover(rule, { since: iso(since), until: iso(until) });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ retried: 3, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();

    // Each once more, under its own delivery id as before: the receiver can tell it is the same call.
    expect(keysSince(sent).sort()).toEqual(inWindow.map((d) => d.id).sort());
    for (const d of inWindow) {
      expect(t.receiver.requests.filter((r) => r.headers["webhook-id"] === d.id).map((r) => r.path)).toEqual(["/crm", "/crm", "/crm"]);
      // A fresh budget: as many attempts again as the rule allows.
      expect(await delivery(d.id)).toMatchObject({ status: "delivered", attempt_count: 3, max_attempts: 4 });
    }
    // Outside the window, or another rule's: untouched.
    for (const d of [before, after]) expect(await delivery(d.id)).toMatchObject({ status: "failed", attempt_count: 2 });
    const othersFailed = (await t.gw.api("GET", `/api/deliveries?webhook_id=${other.id}&status=failed`)).body.data;
    expect(othersFailed).toHaveLength(5);
    // Counted as their new ending, as a retry by hand's is.
    const counted = await metrics();
    expect(counted.value("gateway_deliveries_delivered_total")).toBe(3);
    expect(counted.value("gateway_deliveries_failed_total", { reason: "retries_exhausted" })).toBe(failedBefore);

    const again = await recover(rule, { since: iso(since), until: iso(until) });
    expect(again.body).toEqual({ retried: 0, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(sent + 3);
  });

  it("goes a page at a time, oldest first; with the cursor, one that failed again meanwhile is not taken again", async () => {
    // A small page (RECOVER_PAGE in a deployment), so that a few deliveries make several pages.
    await t.gw.stop();
    const PAGE = 3;
    t.gw = await startGateway({ recoverPage: PAGE });
    t.source = await createSource(t.gw);
    // Held back a minute, then failed unsent by the rule's disabling: none was sent yet.
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, retries: 0, delay_seconds: 60 });
    const since = t.gw.clock.now();
    const count = 2 * PAGE + 1;
    expect((await ingest(t.gw, t.source, Array.from({ length: count }, () => callEvent()))).status).toBe(202);
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { enabled: false })).status).toBe(200);
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { enabled: true })).status).toBe(200);
    const ids = (await t.gw.api("GET", `/api/deliveries?webhook_id=${rule.id}&status=failed`)).body.data.map((d: { id: string }) => d.id).sort();
    expect(ids).toHaveLength(count);

    // Still down: each page is retried and fails again before the next is asked for.
    const first = await recover(rule, { since: iso(since) });
    expect(first.body).toEqual({ retried: PAGE, render_failed: 0, more: true, next_cursor: ids[PAGE - 1] });
    await t.gw.settle();
    expect(keysSince(0).sort()).toEqual(ids.slice(0, PAGE));
    const second = await recover(rule, { since: iso(since), cursor: first.body.next_cursor });
    expect(second.body).toEqual({ retried: PAGE, render_failed: 0, more: true, next_cursor: ids[2 * PAGE - 1] });
    await t.gw.settle();
    const third = await recover(rule, { since: iso(since), cursor: second.body.next_cursor });
    expect(third.body).toEqual({ retried: 1, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    // Oldest first, each once.
    expect(keysSince(0)).toHaveLength(count);
    expect(keysSince(0).slice(0, PAGE).sort()).toEqual(ids.slice(0, PAGE));
    expect(keysSince(0).sort()).toEqual(ids);
    // Each retried one's failure is counted, as a retry by hand's is.
    expect((await metrics()).value("gateway_deliveries_failed_total", { reason: "retries_exhausted" })).toBe(count);

    up = true;
    const pages = await recoverAll(rule, { since: iso(since) });
    expect(pages.map((p) => p.retried)).toEqual([PAGE, PAGE, 1]);
    await t.gw.settle();
    expect(keysSince(count).sort()).toEqual(ids);
    expect((await metrics()).value("gateway_deliveries_delivered_total")).toBe(count);
  });

  it("passes over one retried by hand meanwhile, and one whose attempt is still out, so that neither is sent twice", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, retries: 0 });
    const since = t.gw.clock.now();
    const [byHand, held, rest] = [await failedDeliveryOf(rule), await failedDeliveryOf(rule), await failedDeliveryOf(rule)];
    up = true;
    expect((await t.gw.api("POST", `/api/deliveries/${byHand.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    expect(await delivery(byHand.id)).toMatchObject({ status: "delivered" });
    // Failed by its rule's change while an attempt of it was out (its holder's lease marks it): that attempt may
    // still deliver it. Neither a retry by hand nor a recovery sends it meanwhile.
    await t.gw.sql("UPDATE deliveries SET lease_until = ? WHERE id = ?", [t.gw.clock.now() + 60_000, held.id]);
    expect((await t.gw.api("POST", `/api/deliveries/${held.id}/retry`)).status).toBe(409);

    const sent = t.receiver.requests.length;
    expect((await recover(rule, { since: iso(since) })).body).toEqual({ retried: 1, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(keysSince(sent)).toEqual([rest.id]);
    expect(await delivery(held.id)).toMatchObject({ status: "failed", attempt_count: 1 });

    // Once that lease has run out, it is retried like the others.
    t.gw.clock.advance(60_000);
    expect((await recover(rule, { since: iso(since) })).body).toMatchObject({ retried: 1 });
    await t.gw.settle();
    expect(keysSince(sent)).toEqual([rest.id, held.id]);
  });

  it("renders anew one that could not be rendered: counted and left failed while the template is broken, sent once fixed", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: '{{> (lookup . "direction")}}' });
    const since = t.gw.clock.now();
    const unrendered = [await failedDeliveryOf(rule), await failedDeliveryOf(rule)];
    for (const d of unrendered) expect(d.request).toBeNull();
    up = true;
    expect((await recover(rule, { since: iso(since) })).body).toEqual({ retried: 0, render_failed: 2, more: false, next_cursor: null });
    for (const d of unrendered) expect(await delivery(d.id)).toMatchObject({ status: "failed", request: null, attempt_count: 1 });

    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { body_template: '{"call": "{{uniqueid}}"}' })).status).toBe(200);
    expect((await recover(rule, { since: iso(since) })).body).toEqual({ retried: 2, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(keysSince(0).sort()).toEqual(unrendered.map((d) => d.id).sort());
    // Rendered from the rule as it is now, for the call each was made for.
    const calls = await Promise.all(unrendered.map(async (d) => (await t.gw.api("GET", `/api/events/${d.event_id}`)).body.uniqueid));
    expect(t.receiver.requests.map((r) => JSON.parse(r.body).call).sort()).toEqual(calls.sort());
    for (const d of unrendered) expect(await delivery(d.id)).toMatchObject({ status: "delivered" });
  });

  it("passes over one whose event a retention pass deleted after the page was read, instead of failing the request", async () => {
    // Ids never go back within a process, and other tests may have moved their clocks on: past that, so that
    // these events' ids tell when they came in, as retention reads them.
    t.gw.clock.advance(60 * 24 * 3600_000);
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, body_template: '{{> (lookup . "direction")}}' });
    const since = t.gw.clock.now();
    const unrendered = [await failedDeliveryOf(rule), await failedDeliveryOf(rule)];
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { body_template: '{"call": "{{uniqueid}}"}' })).status).toBe(200);
    up = true;
    // Past the retention period (30 days by default): the next pass deletes both events and their deliveries.
    t.gw.clock.advance(31 * 24 * 3600_000);

    // The first is rendered anew (its event read) and held at its write; the pass then deletes both.
    const held = t.gw.holdNextWrite("retry delivery");
    const recovering = recover(rule, { since: iso(since) });
    await held.reached;
    await t.gw.expire();
    for (const d of unrendered) expect((await t.gw.api("GET", `/api/events/${d.event_id}`)).status).toBe(404);
    held.release();

    const answer = await recovering;
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body).toEqual({ retried: 0, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();
    expect(await t.gw.sql("SELECT id FROM deliveries")).toEqual([]);
    expect(t.receiver.requests).toEqual([]);
  });

  it("refuses a rule turned off by a 410 until it is enabled, then retries what the 410 failed", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, retries: 3 });
    const since = t.gw.clock.now();
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "3600" } }, { status: 410 });
    const waiting = await ingest(t.gw, t.source, callEvent());
    await t.gw.settle();
    const gone = await ingest(t.gw, t.source, callEvent());
    await t.gw.settle();
    const failed = [...(await deliveriesOf(t.gw, waiting.body.event_id)), ...(await deliveriesOf(t.gw, gone.body.event_id))];
    expect(failed.map((d) => d.last_error)).toEqual(["webhook disabled (410 Gone)", expect.stringContaining("410")]);

    up = true;
    const refused = await recover(rule, { since: iso(since) });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "conflict", message: `Webhook ${rule.id} is disabled: enable it first, once its receiver takes requests again` });
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { enabled: true })).status).toBe(200);
    expect((await recover(rule, { since: iso(since) })).body).toMatchObject({ retried: 2, more: false });
    await t.gw.settle();
    expect(keysSince(2).sort()).toEqual(failed.map((d) => d.id).sort());
  });

  it("refuses a missing or malformed window naming the field, and an unknown rule", async () => {
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm` });
    const fieldsOf = async (body: unknown) => {
      const answer = await recover(rule, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      return answer.body.error.details;
    };
    expect(await fieldsOf({})).toEqual([{ field: "since", message: "is required" }]);
    expect(await fieldsOf({ since: "yesterday" })).toEqual([{ field: "since", message: "must be an RFC 3339 time with its offset, such as 2026-11-20T12:00:00Z" }]);
    // Without an offset it would be read in whatever zone the gateway runs in.
    expect((await fieldsOf({ since: "2026-11-20T12:00:00" }))[0].field).toBe("since");
    expect(await fieldsOf({ since: "2026-11-20T12:00:00Z", until: "2026-11-20T11:00:00Z" })).toEqual([{ field: "until", message: "must be after since" }]);
    expect(await fieldsOf({ since: "2026-11-20T12:00:00Z", from: "x" })).toEqual([{ field: "from", message: "unknown field" }]);
    // A cursor that is no delivery id would end the recovery at once, as if nothing were left.
    const notCursor = [{ field: "cursor", message: "must be the previous answer's next_cursor, a delivery id (dlv_...)" }];
    for (const cursor of ["garbage", "evt_01M838XE55N6217ZAVZHM06C8Z", "dlv_01m838xe55n6217zavzhm06c8z"]) {
      expect(await fieldsOf({ since: "2026-11-20T12:00:00Z", cursor })).toEqual(notCursor);
    }
    const missing = await t.gw.api("POST", "/api/webhooks/wh_missing/recover", { since: "2026-11-20T12:00:00Z" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("webhook wh_missing not found");
    const unauthorized = await t.gw.send(`/api/webhooks/${rule.id}/recover`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(unauthorized.status).toBe(401);
  });
});

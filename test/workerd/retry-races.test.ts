import { describe, expect, it } from "vitest";
import { callEvent } from "../support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway } from "./gateway.js";
import { gatewayPerTest } from "../support/gateway-per-test.js";
import { Receiver } from "./receiver.js";

const t = gatewayPerTest({ start: startGateway, receiver: () => new Receiver().start(), source: false });

// A retry by hand reads the delivery, then writes it: an attempt the consumer completes in between (sent,
// failed, pending again) must make the retry a 409, not a second send at once with a budget counted from
// attempts it no longer has. The route is held between its read and its write at its webhook look-up.
describe("retry of a pending delivery racing the consumer", () => {
  it("answers 409 when the consumer made an attempt between the route's read and its write", async () => {
    const source = await createSource(t.gw);
    await createWebhook(t.gw, { url: `${t.receiver.url}/x`, retries: 3 });
    t.receiver.handler = () => ({ status: 503, headers: { "retry-after": "3600" } });
    const answer = await ingest(t.gw, source, callEvent());
    await t.gw.settle();
    const [d] = await deliveriesOf(t.gw, answer.body.event_id);
    expect(d).toMatchObject({ status: "pending", attempt_count: 1, max_attempts: 4 });

    const held = t.gw.holdNextStatement(/from "webhooks"/i);
    const retry = t.gw.api("POST", `/api/deliveries/${d.id}/retry`);
    await held.reached; // the route has read the pending row and waits on its webhook read
    t.gw.clock.advance(3_600_000);
    await t.gw.settle(); // the consumer's scheduled attempt: sent, fails, pending again
    const mid = (await t.gw.api("GET", `/api/deliveries/${d.id}`)).body;
    expect(mid).toMatchObject({ status: "pending", attempt_count: 2 });
    held.release();
    const r = await retry;
    expect(r.status).toBe(409);
    await t.gw.settle();
    const end = (await t.gw.api("GET", `/api/deliveries/${d.id}`)).body;
    expect(end).toMatchObject({ status: "pending", attempt_count: 2, max_attempts: 4, last_error: expect.stringContaining("503") });
    expect(t.receiver.requests).toHaveLength(2);
  });
});

// A recovery reads a page of failed deliveries, then writes each: one retried by hand between its read and its
// write is passed over (the write is conditional on the delivery as read), not sent a second time.
describe("a recovery racing a retry by hand", () => {
  it("passes over the delivery retried by hand after the page was read; each is sent once", async () => {
    const source = await createSource(t.gw);
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, retries: 0 });
    const since = new Date(t.gw.clock.now()).toISOString();
    t.receiver.handler = () => ({ status: 503 });
    const failed = [];
    for (let i = 0; i < 3; i++) {
      const answer = await ingest(t.gw, source, callEvent());
      await t.gw.settle();
      failed.push(...(await deliveriesOf(t.gw, answer.body.event_id)));
    }
    expect(failed.map((d) => d.status)).toEqual(["failed", "failed", "failed"]);
    t.receiver.handler = () => ({ status: 200 });

    const held = t.gw.holdNextStatement(/^update "deliveries"/i);
    const recovery = t.gw.api("POST", `/api/webhooks/${rule.id}/recover`, { since });
    await held.reached; // the page is read; its first write waits
    expect((await t.gw.api("POST", `/api/deliveries/${failed[1].id}/retry`)).status).toBe(202);
    held.release();
    const answer = await recovery;
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ retried: 2, render_failed: 0, more: false, next_cursor: null });
    await t.gw.settle();

    const resent = t.receiver.requests.slice(3).map((r) => r.headers["webhook-id"]);
    expect(resent.sort()).toEqual(failed.map((d) => d.id).sort());
    for (const d of failed) expect((await t.gw.api("GET", `/api/deliveries/${d.id}`)).body).toMatchObject({ status: "delivered", attempt_count: 2 });
  });
});

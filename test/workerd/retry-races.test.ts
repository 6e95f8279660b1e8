import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "../support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway, type TestGateway } from "./gateway.js";
import { Receiver } from "./receiver.js";

let gw: TestGateway;
let receiver: Receiver;
beforeEach(async () => {
  gw = await startGateway();
  receiver = await new Receiver().start();
});
afterEach(async () => {
  await gw.stop();
  await receiver.stop();
});

// A retry by hand reads the delivery, then writes it: an attempt the consumer completes in between (sent,
// failed, pending again) must make the retry a 409, not a second send at once with a budget counted from
// attempts it no longer has. The route is held between its read and its write at its webhook look-up.
describe("retry of a pending delivery racing the consumer", () => {
  it("answers 409 when the consumer made an attempt between the route's read and its write", async () => {
    const source = await createSource(gw);
    await createWebhook(gw, { url: `${receiver.url}/x`, retries: 3 });
    receiver.handler = () => ({ status: 503, headers: { "retry-after": "3600" } });
    const answer = await ingest(gw, source, callEvent());
    await gw.settle();
    const [d] = await deliveriesOf(gw, answer.body.event_id);
    expect(d).toMatchObject({ status: "pending", attempt_count: 1, max_attempts: 4 });

    const held = gw.holdNextStatement(/from "webhooks"/i);
    const retry = gw.api("POST", `/api/deliveries/${d.id}/retry`);
    await held.reached; // the route has read the pending row and waits on its webhook read
    gw.clock.advance(3_600_000);
    await gw.settle(); // the consumer's scheduled attempt: sent, fails, pending again
    const mid = (await gw.api("GET", `/api/deliveries/${d.id}`)).body;
    expect(mid).toMatchObject({ status: "pending", attempt_count: 2 });
    held.release();
    const r = await retry;
    expect(r.status).toBe(409);
    await gw.settle();
    const end = (await gw.api("GET", `/api/deliveries/${d.id}`)).body;
    expect(end).toMatchObject({ status: "pending", attempt_count: 2, max_attempts: 4, last_error: expect.stringContaining("503") });
    expect(receiver.requests).toHaveLength(2);
  });
});

// A recovery reads a page of failed deliveries, then writes each: one retried by hand between its read and its
// write is passed over (the write is conditional on the delivery as read), not sent a second time.
describe("a recovery racing a retry by hand", () => {
  it("passes over the delivery retried by hand after the page was read; each is sent once", async () => {
    const source = await createSource(gw);
    const rule = await createWebhook(gw, { url: `${receiver.url}/crm`, retries: 0 });
    const since = new Date(gw.clock.now()).toISOString();
    receiver.handler = () => ({ status: 503 });
    const failed = [];
    for (let i = 0; i < 3; i++) {
      const answer = await ingest(gw, source, callEvent());
      await gw.settle();
      failed.push(...(await deliveriesOf(gw, answer.body.event_id)));
    }
    expect(failed.map((d) => d.status)).toEqual(["failed", "failed", "failed"]);
    receiver.handler = () => ({ status: 200 });

    const held = gw.holdNextStatement(/^update "deliveries"/i);
    const recovery = gw.api("POST", `/api/webhooks/${rule.id}/recover`, { since });
    await held.reached; // the page is read; its first write waits
    expect((await gw.api("POST", `/api/deliveries/${failed[1].id}/retry`)).status).toBe(202);
    held.release();
    const answer = await recovery;
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ retried: 2, render_failed: 0, more: false, next_cursor: null });
    await gw.settle();

    const resent = receiver.requests.slice(3).map((r) => r.headers["webhook-id"]);
    expect(resent.sort()).toEqual(failed.map((d) => d.id).sort());
    for (const d of failed) expect((await gw.api("GET", `/api/deliveries/${d.id}`)).body).toMatchObject({ status: "delivered", attempt_count: 2 });
  });
});

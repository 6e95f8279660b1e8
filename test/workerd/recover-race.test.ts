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

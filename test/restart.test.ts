import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway, type TestGateway } from "./support/gateway.js";
import { Receiver } from "./support/receiver.js";

// The Node gateway stopping and starting again over the same database file. (On Workers there is no
// process to restart: test/workerd/queue.test.ts covers a consumer lost mid-delivery and lost messages.)

let gw: TestGateway;
let receiver: Receiver;
let source: { id: string; secret: string };

beforeEach(async () => {
  gw = await startGateway();
  receiver = await new Receiver().start();
  source = await createSource(gw);
});
afterEach(async () => {
  await gw.stop();
  await receiver.stop();
});

async function deliverOne(event = callEvent()) {
  const answer = await ingest(gw, source, event);
  expect(answer.status).toBe(202);
  await gw.settle();
  return answer.body.event_id as string;
}

describe("restart", () => {
  it("sends after a restart what was pending when the gateway stopped", async () => {
    await createWebhook(gw, { url: `${receiver.url}/after-restart`, delay_seconds: 30 });
    const eventId = await deliverOne();
    const { dir, clock } = gw;
    await gw.stop(false);

    clock.advance(30_000);
    gw = await startGateway({ dir, clock });
    await gw.sweep();
    expect(receiver.requests).toHaveLength(1);
    const [delivery] = await deliveriesOf(gw, eventId);
    expect(delivery.status).toBe("delivered");
  });

  it("sends again after a restart a delivery that was in flight when the gateway stopped", async () => {
    await createWebhook(gw, { url: `${receiver.url}/in-flight`, timeout_ms: 30_000 });
    receiver.replyWith({ delayMs: 20_000 });
    const answer = await ingest(gw, source, callEvent());
    await receiver.waitFor(1);
    const { dir, clock } = gw;
    await gw.stop(false);

    gw = await startGateway({ dir, clock });
    await gw.sweep();
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1].headers["webhook-id"]).toBe(receiver.requests[0].headers["webhook-id"]);
    const [delivery] = await deliveriesOf(gw, answer.body.event_id);
    expect(delivery.status).toBe("delivered");
  });
});

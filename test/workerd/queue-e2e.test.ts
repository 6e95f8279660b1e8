import { applyD1Migrations, reset, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect, it } from "vitest";
import { callEvent } from "../support/events.js";
import { clientOf, createSource, createWebhook, ingest, type GatewayUnderTest } from "../support/gateway-api.js";
import { Receiver } from "./receiver.js";

// The whole path through real Cloudflare Queues (Miniflare's), in real time: the Worker of
// queue-worker.ts (retrying after 1 s) receives the ingest, sends the message, consumes it, delivers
// to a real receiver, records the attempts in D1, and retries a failure through a delayed message.

let receiver: Receiver;

beforeEach(async () => {
  await reset();
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  receiver = await new Receiver().start();
});
afterEach(() => receiver.stop());

/** The Worker as the runtime invokes it: `fetch` through its own binding, `queue` by the queue itself. */
const gateway = { ...clientOf((path, init) => SELF.fetch(new Request(`http://gateway.test${path}`, init))) } as GatewayUnderTest;

/** Polls until `read` returns a value: the consumer's last write happens in its own invocation. */
async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it("ingest, queue, consumer, delivery to a receiver, attempts in D1, and a retry after a failure", async () => {
  const source = await createSource(gateway);
  await createWebhook(gateway, { url: `${receiver.url}/crm`, body_template: '{"call": {{json uniqueid}} }' });
  receiver.replyWith({ status: 500, body: "CRM down" });

  const answer = await ingest(gateway, source, callEvent({ uniqueid: "e2e.1" }));
  expect(answer.status).toBe(202);
  await receiver.waitFor(2);

  expect(receiver.requests.map((r) => r.body)).toEqual(['{"call": "e2e.1" }', '{"call": "e2e.1" }']);
  expect(receiver.requests[1].headers["webhook-id"]).toBe(receiver.requests[0].headers["webhook-id"]);
  const deliveryId = String(receiver.requests[0].headers["webhook-id"]);
  const delivery = await eventually(async () => {
    const { body } = await gateway.api("GET", `/api/deliveries/${deliveryId}`);
    return body.status === "delivered" ? body : undefined;
  });
  expect(delivery.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 200]);
  const rows = await env.DB.prepare("SELECT number, status_code, response_body FROM attempts WHERE delivery_id = ? ORDER BY number")
    .bind(deliveryId)
    .all();
  expect(rows.results).toEqual([
    { number: 1, status_code: 500, response_body: "CRM down" },
    { number: 2, status_code: 200, response_body: "ok" },
  ]);
});

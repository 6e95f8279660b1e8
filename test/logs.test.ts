import { afterEach, beforeEach, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { callEvent } from "./support/events.js";
import { ADMIN_TOKEN, createSource, createWebhook, ingest, startGateway, type TestGateway } from "./support/gateway.js";
import { Receiver } from "./support/receiver.js";

// Node only: the test reads the gateway's log lines through the logger it starts the gateway with.
let gw: TestGateway;
let receiver: Receiver;
let lines: string[];

beforeEach(async () => {
  lines = [];
  gw = await startGateway({ log: createLogger("debug", (line) => lines.push(line)) });
  receiver = await new Receiver().start();
});
afterEach(async () => {
  await gw.stop();
  await receiver.stop();
});

const entries = () => lines.map((line) => JSON.parse(line) as Record<string, any>);

it("logs JSON lines that tie ingest and every attempt to the event, delivery and webhook, never a secret", async () => {
  const source = await createSource(gw);
  const webhook = await createWebhook(gw, {
    url: `${receiver.url}/hook`,
    headers: { "X-Api-Key": "crm-key-never-logged" },
    params: { id: "uniqueid" },
    retries: 1,
  });
  const rejecting = await createWebhook(gw, { url: `${receiver.url}/reject`, params: { id: "uniqueid" } });
  receiver.handler = (request) => (request.path === "/reject" ? { status: 400 } : { status: 200 });
  receiver.replyWith({ status: 503 });

  const answer = await ingest(gw, source, callEvent({ uniqueid: "log.1" }));
  expect(answer.status).toBe(202);
  const eventId = answer.body.event_id;
  await gw.settle();

  for (const entry of entries()) {
    expect(entry).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: expect.any(String), msg: expect.any(String) });
  }
  const accepted = entries().find((e) => e.msg === "event accepted")!;
  expect(accepted).toMatchObject({ level: "info", event_id: eventId, source_id: source.id, type: "call.end", uniqueid: "log.1" });
  expect(accepted.delivery_ids).toHaveLength(2);

  const [hookDelivery] = (await gw.api("GET", `/api/deliveries?webhook_id=${webhook.id}`)).body.data;
  const ids = { delivery_id: hookDelivery.id, event_id: eventId, webhook_id: webhook.id };
  expect(accepted.delivery_ids).toContain(hookDelivery.id);
  expect(entries().find((e) => e.msg === "attempt failed, will retry")).toMatchObject({ ...ids, attempt: 1, status_code: 503, retry_in_ms: 1000 });
  expect(entries().find((e) => e.msg === "delivered")).toMatchObject({ level: "info", ...ids, attempt: 2, status_code: 200 });
  expect(entries().find((e) => e.msg === "delivery failed")).toMatchObject({
    level: "warn",
    event_id: eventId,
    webhook_id: rejecting.id,
    attempt: 1,
    status_code: 400,
    error: expect.stringContaining("HTTP 400"),
  });

  const all = lines.join("\n");
  for (const secret of [source.secret, webhook.secret, rejecting.secret, ADMIN_TOKEN, "crm-key-never-logged"]) {
    expect(all).not.toContain(secret);
  }
});

import { describe, expect, it } from "vitest";
import { createExecutionContext } from "cloudflare:test";
import { createWorker } from "../../src/runtime/worker.js";
import { SENDING_AT_ONCE } from "../../src/runtime/worker-consumer.js";
import { WORKER_PARTIALS } from "../../src/runtime/worker-partials.js";
import { callEvent } from "../support/events.js";
import { projectFile, projectFiles } from "../support/files.js";
import { createWebhook, ingest, startGateway } from "./gateway.js";
import { gatewayPerTest } from "../support/gateway-per-test.js";
import { Receiver } from "./receiver.js";
import { parsePrometheus } from "../support/prometheus.js";

// What only the Workers runtime has: Queues messages as wake-up calls for deliveries kept in D1, the
// dead-letter queue, and the cron sweep. (The behaviour shared with Node runs in the shared test files.)

const t = gatewayPerTest({ start: startGateway, receiver: () => new Receiver().start() });

/** Ingests a call; returns its one delivery's id. Nothing is sent until the test lets the queue run. */
async function ingestOne(): Promise<string> {
  const answer = await ingest(t.gw, t.source, callEvent());
  expect(answer.status).toBe(202);
  const { body } = await t.gw.api("GET", `/api/events/${answer.body.event_id}`);
  return body.deliveries[0].id;
}

const deliveryOf = async (id: string) => (await t.gw.api("GET", `/api/deliveries/${id}`)).body;

describe("Queues", () => {
  it("ingest sends a message per delivery, delayed by delay_seconds", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/now` });
    await createWebhook(t.gw, { url: `${t.receiver.url}/later`, delay_seconds: 90 });
    await ingest(t.gw, t.source, callEvent());
    expect(t.gw.queued().map((m) => m.inMs).sort((a, b) => a - b)).toEqual([0, 90_000]);
    await t.gw.settle();
    expect(t.receiver.requests.map((r) => r.path)).toEqual(["/now"]);
    t.gw.clock.advance(90_000);
    await t.gw.sweep();
    expect(t.receiver.requests.map((r) => r.path)).toEqual(["/now", "/later"]);
  });

  it("a delay beyond what Queues allow (12 h) is re-deferred when its message arrives early", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/tomorrow`, delay_seconds: 86_400 });
    const id = await ingestOne();
    expect(t.gw.queued()).toEqual([{ delivery_id: id, inMs: 43_200_000, attempts: 1 }]);
    t.gw.clock.advance(43_200_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(0);
    expect(t.gw.queued()).toEqual([{ delivery_id: id, inMs: 43_200_000, attempts: 1 }]);
    t.gw.clock.advance(43_200_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    expect((await deliveryOf(id)).status).toBe("delivered");
  });

  it("a retry is a new message delayed by the backoff, and every attempt is recorded in D1", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/busy` });
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "120" } });
    const id = await ingestOne();
    await t.gw.settle();
    expect(t.gw.queued()).toEqual([{ delivery_id: id, inMs: 120_000, attempts: 1 }]);
    expect((await deliveryOf(id)).status).toBe("pending");
    t.gw.clock.advance(120_000);
    await t.gw.sweep();
    const delivery = await deliveryOf(id);
    expect(delivery.status).toBe("delivered");
    expect(delivery.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([503, 200]);
    const rows = await t.gw.env.DB.prepare("SELECT number, status_code FROM attempts WHERE delivery_id = ? ORDER BY number").bind(id).all();
    expect(rows.results).toEqual([{ number: 1, status_code: 503 }, { number: 2, status_code: 200 }]);
  });

  it("a batch sends at most 6 deliveries at once, the connections an invocation may hold open", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/slow`, timeout_ms: 5_000 });
    t.receiver.handler = () => ({ delayMs: 200 });
    for (let i = 0; i < 10; i++) await ingest(t.gw, t.source, callEvent());
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(10);
    const mostOpen = await t.receiver.mostOpenAtOnce();
    expect(mostOpen).toBeLessThanOrEqual(SENDING_AT_ONCE);
    expect(mostOpen).toBeGreaterThan(1);
  });

  it("duplicate messages for one delivery send it once", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/once` });
    const id = await ingestOne();
    await t.gw.env.DELIVERIES.send({ delivery_id: id });
    await t.gw.env.DELIVERIES.send({ delivery_id: id });
    expect(t.gw.queued()).toHaveLength(3);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
    expect((await deliveryOf(id)).attempt_count).toBe(1);
    // The two that lost the claim look again when the winner's lease would end, and find it delivered.
    expect(t.gw.queued().map((m) => m.inMs)).toEqual([90_000, 90_000]);
    t.gw.clock.advance(90_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    expect(t.gw.queued()).toEqual([]);
  });

  it("a delivery held by another consumer is looked at again when that consumer's lease ends", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/leased` });
    const id = await ingestOne();
    const leaseUntil = t.gw.clock.now() + 90_000;
    await t.gw.env.DB.prepare("UPDATE deliveries SET status = 'delivering', lease_until = ? WHERE id = ?").bind(leaseUntil, id).run();
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(0);
    expect(t.gw.queued()).toEqual([{ delivery_id: id, inMs: 90_000, attempts: 1 }]);
    t.gw.clock.advance(90_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    expect((await deliveryOf(id)).status).toBe("delivered");
  });

  it("a message that names no delivery is acknowledged, not retried, and the batch's other messages are sent", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/among-strangers` });
    for (const body of [null, {}, { delivery_id: 42 }, "dlv_x"]) t.gw.sendBody(body);
    const id = await ingestOne();
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
    expect((await deliveryOf(id)).status).toBe("delivered");
    expect(t.gw.queued()).toEqual([]);
  });

  it("a consumer that fails (D1 unavailable) has its message retried with backoff; nothing is lost", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/after-outage` });
    const id = await ingestOne();
    await t.gw.env.DB.exec("ALTER TABLE deliveries RENAME TO deliveries_offline");
    await t.gw.settle();
    await t.gw.env.DB.exec("ALTER TABLE deliveries_offline RENAME TO deliveries");
    expect(t.receiver.requests).toHaveLength(0);
    expect(t.gw.queued()).toEqual([{ delivery_id: id, inMs: 5_000, attempts: 2 }]);
    t.gw.clock.advance(5_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    expect((await deliveryOf(id)).status).toBe("delivered");
  });
});

describe("dead letters and the cron sweep", () => {
  it("a dead-lettered delivery fails visibly and can be retried from the API", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/dead` });
    const id = await ingestOne();
    t.gw.loseMessages();
    const result = await t.gw.deadLetter([id], 6);
    expect(result.explicitAcks).toHaveLength(1);
    const failed = await deliveryOf(id);
    expect(failed.status).toBe("failed");
    expect(failed.last_error).toMatch(/queue consumer failed on this delivery 6 times/);
    expect((await t.gw.api("POST", `/api/deliveries/${id}/retry`)).status).toBe(202);
    await t.gw.settle();
    expect((await deliveryOf(id)).status).toBe("delivered");
  });

  it("dead letters that name no delivery are acknowledged; those after them in the batch still fail their deliveries", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/dead-among-strangers` });
    const id = await ingestOne();
    t.gw.loseMessages();
    const result = await t.gw.deadLetterBodies([null, { delivery_id: "" }, { delivery_id: id }], 6);
    expect(result.explicitAcks).toHaveLength(3);
    expect((await deliveryOf(id)).status).toBe("failed");
  });

  it("a dead letter for a delivery already delivered changes nothing", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/done` });
    const id = await ingestOne();
    await t.gw.settle();
    await t.gw.deadLetter([id], 6);
    expect((await deliveryOf(id)).status).toBe("delivered");
  });

  // A dead letter comes from an earlier message for the delivery; a cron sweep's message may have had another
  // consumer claim it since. Failing it under that sender would end as failed a delivery the receiver took.
  it("a dead letter for a delivery another consumer is sending leaves it to that sender, looked at again when its lease ends", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/taking-its-time`, retries: 0 });
    let answer = () => {};
    t.receiver.replyWith({ status: 200, until: new Promise<void>((resolve) => (answer = resolve)) });
    const id = await ingestOne();
    const sending = t.gw.settle();
    await t.receiver.waitFor(1);
    const { lease_until } = (await t.gw.sql("select lease_until from deliveries where id = ?", [id]))[0] as { lease_until: number };
    const result = await t.gw.deadLetter([id], 6);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await deliveryOf(id)).status).toBe("delivering");
    expect(t.gw.queued()).toEqual([{ delivery_id: id, inMs: lease_until - t.gw.clock.now(), attempts: 1 }]);
    answer();
    await sending;

    expect(await deliveryOf(id)).toMatchObject({ status: "delivered", attempt_count: 1, last_error: null });
    const metrics = parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body as string);
    expect(metrics.value("gateway_deliveries_failed_total", { reason: "dead_letter" })).toBe(0);
    expect(metrics.value("gateway_deliveries_delivered_total")).toBe(1);
    // The message left for the lease's end finds it delivered: nothing more is sent.
    t.gw.clock.advance(lease_until - t.gw.clock.now());
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    expect(t.gw.queued()).toEqual([]);
  });

  it("a dead letter for a delivery whose holder's lease ran out fails it, and one dead-lettered again once the lease ends does", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/holder-gone` });
    const expired = await ingestOne();
    const held = await ingestOne();
    t.gw.loseMessages();
    const now = t.gw.clock.now();
    const lease = "UPDATE deliveries SET status = 'delivering', lease_until = ? WHERE id = ?";
    await t.gw.sql(lease, [now, expired]);
    await t.gw.sql(lease, [now + 90_000, held]);
    await t.gw.deadLetter([expired, held], 6);
    expect((await deliveryOf(expired)).status).toBe("failed");
    expect((await deliveryOf(held)).status).toBe("delivering");
    expect(t.gw.queued()).toEqual([{ delivery_id: held, inMs: 90_000, attempts: 1 }]);

    // Its holder never finishes, and the message left for the lease's end fails in the consumer as well.
    t.gw.loseMessages();
    t.gw.clock.advance(90_000);
    await t.gw.deadLetter([held], 6);
    expect(await deliveryOf(held)).toMatchObject({ status: "failed", last_error: expect.stringMatching(/queue consumer failed on this delivery 6 times/) });
    const metrics = parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body as string);
    expect(metrics.value("gateway_deliveries_failed_total", { reason: "dead_letter" })).toBe(2);
    expect(t.receiver.requests).toHaveLength(0);
  });

  it("a queue that refuses the message still gets the committed event acknowledged; the cron sweep sends it", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/queue-outage` });
    t.gw.failNextSend();
    const id = await ingestOne();
    expect(t.gw.queued()).toEqual([]);
    t.gw.clock.advance(61_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    expect((await deliveryOf(id)).status).toBe("delivered");
  });

  it("a retry by hand during a Queues outage is accepted (202); the cron sweep sends it", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/again`, retries: 0 });
    t.receiver.replyWith({ status: 500 });
    const id = await ingestOne();
    await t.gw.settle();
    expect((await deliveryOf(id)).status).toBe("failed");
    t.gw.failNextSend();
    const retry = await t.gw.api("POST", `/api/deliveries/${id}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body.status).toBe("pending");
    t.gw.clock.advance(61_000);
    await t.gw.sweep();
    expect((await deliveryOf(id)).status).toBe("delivered");
  });

  it("a Queues outage during the cron's sweep does not stop its other jobs: retention still runs", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/crm` });
    const delivered = await ingestOne();
    await t.gw.settle();
    t.gw.failNextSend();
    const stranded = await ingestOne();
    // Past RETENTION_DAYS (30) with room to spare: ids never go back within the process, so they may carry the
    // time of an earlier test's clock, up to a day on.
    t.gw.clock.advance(60 * 86_400_000);
    t.gw.failNextSend();
    await t.gw.expire();
    expect((await t.gw.api("GET", `/api/deliveries/${delivered}`)).status).toBe(404);
    expect((await deliveryOf(stranded)).status).toBe("pending");
    await t.gw.sweep();
    expect((await deliveryOf(stranded)).status).toBe("delivered");
  });

  it("the cron sweep re-queues a delivery whose message was lost, once it is a minute overdue", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/lost` });
    const id = await ingestOne();
    t.gw.loseMessages();
    t.gw.clock.advance(30_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(0);
    t.gw.clock.advance(31_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    expect((await deliveryOf(id)).status).toBe("delivered");
  });
});

describe("the Worker", () => {
  it("bundles exactly the partials of templates/partials/", () => {
    const folder = Object.fromEntries(
      projectFiles("templates/partials").map((path) => [path.slice("templates/partials/".length, -".hbs".length), projectFile(path)]),
    );
    expect(WORKER_PARTIALS).toEqual(folder);
  });

  it("answers a configuration error with a 500 naming the setting", async () => {
    const worker = createWorker();
    const ask = async (vars: Record<string, string | number>) => {
      const response = await worker.fetch(new Request("http://gateway.test/health"), { ...t.gw.env, ADMIN_TOKEN: undefined, ...vars }, createExecutionContext());
      return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
    };
    const missing = await ask({});
    expect(missing.status).toBe(500);
    expect(missing.body.error.message).toMatch(/ADMIN_TOKEN is not set: `wrangler secret put ADMIN_TOKEN`/);
    const badLevel = await ask({ ADMIN_TOKEN: "a-long-enough-admin-token", LOG_LEVEL: "loud" });
    expect(badLevel.status).toBe(500);
    expect(JSON.stringify(badLevel.body)).toMatch(/LOG_LEVEL/);
    const badRetention = await ask({ ADMIN_TOKEN: "a-long-enough-admin-token", RETENTION_DAYS: "a month" });
    expect(badRetention).toEqual({
      status: 500,
      body: { error: { code: "not_configured", message: "Configuration error: RETENTION_DAYS: must be a number" } },
    });
    // A TOML number in wrangler.toml's [vars] (`RETENTION_DAYS = -1`) arrives as a JSON number. Before: dropped,
    // and the default applied.
    const numberVar = await ask({ ADMIN_TOKEN: "a-long-enough-admin-token", RETENTION_DAYS: -1 });
    expect(numberVar).toEqual({
      status: 500,
      body: { error: { code: "not_configured", message: "Configuration error: RETENTION_DAYS: must be at least 0" } },
    });
  });
});

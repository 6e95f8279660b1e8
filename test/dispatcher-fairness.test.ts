import { afterEach, beforeEach, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, holdWriteLock, ingest, startGateway, type TestGateway } from "./support/gateway.js";
import { parsePrometheus } from "./support/prometheus.js";
import { Receiver } from "./support/receiver.js";

// Node's dispatcher shares its sends among rules: a CRM that hangs (or fails and is retried) takes at most
// its rule's share of them, so the other rules' deliveries go out meanwhile.

let gw: TestGateway;
let down: Receiver;
let up: Receiver;
let source: { id: string; secret: string };
let release: () => void;

beforeEach(async () => {
  gw = await startGateway();
  down = await new Receiver().start();
  up = await new Receiver().start();
  source = await createSource(gw);
  const hung = new Promise<void>((resolve) => (release = resolve));
  down.handler = () => ({ status: 200, until: hung });
});
afterEach(async () => {
  release();
  await gw.stop();
  await down.stop();
  await up.stop();
});

it("sends the other rules' deliveries while one rule's CRM hangs on every request", async () => {
  await createWebhook(gw, { name: "hung CRM", url: `${down.url}/calls`, timeout_ms: 60_000, retries: 0 });
  await createWebhook(gw, { name: "healthy CRM", url: `${up.url}/calls` });
  const events = 150;
  for (let i = 0; i < events; i++) expect((await ingest(gw, source, callEvent({ uniqueid: `fair.${i}` }))).status).toBe(202);

  // Before: the hung CRM's deliveries filled every send slot and the healthy CRM got nothing more.
  await up.waitFor(events);
  expect(down.requests.length).toBeLessThan(events);

  release();
  await gw.settle();
  expect(down.requests).toHaveLength(events);
  expect(await gw.sql("SELECT status, count(*) AS n FROM deliveries GROUP BY status")).toEqual([{ status: "delivered", n: 2 * events }]);
});

it("sends a rule's deliveries while another rule's endpoint on the same host hangs on every request", async () => {
  // One CRM host, two endpoints: the rules share its connections, and the hung endpoint's rule takes its full share.
  const hung = new Promise<void>((resolve) => (release = resolve));
  down.handler = (request) => (request.path === "/hangs" ? { status: 200, until: hung } : { status: 200 });
  await createWebhook(gw, { name: "hung endpoint", url: `${down.url}/hangs`, timeout_ms: 60_000, retries: 0 });
  await createWebhook(gw, { name: "healthy endpoint", url: `${down.url}/calls` });
  const events = 100;
  for (let i = 0; i < events; i++) expect((await ingest(gw, source, callEvent({ uniqueid: `host.${i}` }))).status).toBe(202);

  // Before: the hung endpoint's 64 requests held all 64 connections to the host, and the healthy endpoint's
  // requests queued behind them until they timed out.
  const healthy = () => down.requests.filter((request) => request.path === "/calls").length;
  await down.waitFor(64 + events);
  expect(healthy()).toBe(events);

  release();
  await gw.settle();
  expect(await gw.sql("SELECT status, count(*) AS n FROM deliveries GROUP BY status")).toEqual([{ status: "delivered", n: 2 * events }]);
});

it("keeps room for other rules when several rules' CRMs hang at once", async () => {
  // One CRM behind five rules (call start, answer, end...) holds more than all the places if each rule may take
  // its full share: 5 x 4 > 16.
  await gw.stop();
  gw = await startGateway({ dispatcherLimits: { concurrency: 16, ruleShare: 4, ruleBacklog: 8 } });
  source = await createSource(gw);
  for (let i = 0; i < 5; i++) await createWebhook(gw, { name: `hung CRM ${i}`, url: `${down.url}/calls`, timeout_ms: 60_000, retries: 0 });
  await createWebhook(gw, { name: "healthy CRM", url: `${up.url}/calls` });
  const events = 20;
  for (let i = 0; i < events; i++) expect((await ingest(gw, source, callEvent({ uniqueid: `many.${i}` }))).status).toBe(202);

  // Before: the hung rules filled all 16 places and the healthy CRM got 3 calls until they timed out.
  await up.waitFor(events);
  expect(down.requests.length).toBeLessThan(16);

  release();
  await gw.settle();
  for (let i = 0; i < 4; i++) {
    gw.clock.advance(60_000);
    await gw.sweep();
  }
  expect(await gw.sql("SELECT status, count(*) AS n FROM deliveries GROUP BY status")).toEqual([{ status: "delivered", n: 6 * events }]);
});

it("leaves what a hung rule has beyond its backlog in the outbox, and sends it once the rule has room", async () => {
  await gw.stop();
  // Room for a whole sweep's batch: each sweep claims every due delivery at once, and keeps and sends as many.
  gw = await startGateway({ dispatcherLimits: { concurrency: 64, ruleShare: 4, ruleBacklog: 8 } });
  source = await createSource(gw);
  await createWebhook(gw, { name: "hung CRM", url: `${down.url}/calls`, timeout_ms: 60_000, retries: 0 });
  const events = 30;
  for (let i = 0; i < events; i++) expect((await ingest(gw, source, callEvent({ uniqueid: `backlog.${i}` }))).status).toBe(202);
  await down.waitFor(4);
  expect(down.requests).toHaveLength(4);

  release();
  await gw.settle();
  // Its share and its backlog were sent; the rest was handed back to the outbox, due, not left leased to a
  // dispatcher that does not send it (shown as being sent, and not counted as due, until the lease ran out).
  expect(down.requests).toHaveLength(4 + 8);
  expect(await gw.sql("SELECT status, count(*) AS n FROM deliveries GROUP BY status ORDER BY status")).toEqual([
    { status: "delivered", n: 12 },
    { status: "pending", n: events - 12 },
  ]);
  expect(parsePrometheus((await gw.send("/metrics", {})).body).value("gateway_queue_due")).toBe(events - 12);
  // A sweep claims them all, sends a share and keeps a backlog again, and hands the rest back again.
  await gw.sweep();
  expect(down.requests).toHaveLength(2 * (4 + 8));
  await gw.sweep();
  expect(down.requests).toHaveLength(events);
  expect(new Set(down.requests.map((request) => JSON.parse(request.body).uniqueid)).size).toBe(events);
  expect(await gw.sql("SELECT status, count(*) AS n FROM deliveries GROUP BY status")).toEqual([{ status: "delivered", n: events }]);
});

it("sends a rule's next delivery once the reply is in, while the last one's outcome is still being written", async () => {
  await gw.stop();
  gw = await startGateway({ dispatcherLimits: { concurrency: 16, ruleShare: 1, ruleBacklog: 8 } });
  source = await createSource(gw);
  await createWebhook(gw, { name: "CRM", url: `${down.url}/calls`, timeout_ms: 60_000, retries: 0 });
  down.handler = undefined;
  const first = new Promise<void>((resolve) => (release = resolve));
  down.replyWith({ status: 200, until: first });
  for (const uniqueid of ["write.1", "write.2"]) expect((await ingest(gw, source, callEvent({ uniqueid }))).status).toBe(202);
  await down.waitFor(1);

  // Another connection holds the database's write lock: the first delivery's outcome cannot be written yet.
  const letGo = await holdWriteLock(gw);
  try {
    release();
    // Before: the rule's one place was held until the outcome was written, so the second request waited for the
    // lock (and, past the database's 5 s busy timeout, the first delivery's outcome was lost with the write).
    await down.waitFor(2);
  } finally {
    await letGo();
  }
  await gw.settle();
  expect(await gw.sql("SELECT status, count(*) AS n FROM deliveries GROUP BY status")).toEqual([{ status: "delivered", n: 2 }]);
});

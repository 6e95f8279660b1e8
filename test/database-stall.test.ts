import { beforeEach, expect, it } from "vitest";
import { systemClock, type Clock } from "../src/clock.js";
import { createLogger } from "../src/log.js";
import { callEvent } from "./support/events.js";
import { type Answer, holdWriteLock, ingest, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { warmUp } from "./support/warm-up.js";
import { parsePrometheus } from "./support/prometheus.js";

// Node only: the database's operations run one after another in its thread, so while a commit waits for
// SQLite's lock (another connection holds it, for up to the 5 s busy timeout) every read waits behind it.
// `/metrics` and `/health` must answer all the same, without the database, after a bounded wait.

/** How long `/metrics` and `/health` wait for the database in this test while it is stuck (1 s otherwise). */
const STUCK_WAIT_MS = 250;

/**
 * What `/metrics` and `/health` wait for the database on: STUCK_WAIT_MS of real time while `stuck`, and
 * otherwise as long as the read takes, so that what the test checks outside the stall does not depend on how
 * fast a loaded machine reads.
 */
class DatabaseWaits implements Clock {
  stuck = false;
  now = () => Date.now();
  sleep(_ms: number, signal?: AbortSignal): Promise<void> {
    if (this.stuck) return systemClock.sleep(STUCK_WAIT_MS, signal);
    return new Promise((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
  }
}

let waits: DatabaseWaits;
let lines: string[];

beforeEach(() => {
  waits = new DatabaseWaits();
  lines = [];
});
const t = gatewayPerTest({ start: () => startGateway({ databaseWaitClock: waits, log: createLogger("debug", (line) => lines.push(line)) }), source: warmUp });

const get = (path: string) => t.gw.send(path, { method: "GET" });
const logged = (msg: string) => lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === msg);

/**
 * `/health` once the database thread is stuck behind the ingest's commit: the ingest's requests reach the
 * gateway on a connection of their own, so the first probes may be read before its commit is sent. Probes
 * until one is not answered ok, or the ingest is answered (before the fix, a probe behind the commit waited
 * until the commit gave up at the busy timeout).
 */
async function healthOnceStuck(ingestAnswered: () => boolean): Promise<Answer> {
  for (;;) {
    const health = await get("/health");
    if (health.status !== 200 || ingestAnswered()) return health;
  }
}

it("answers /metrics (without the database's gauges) and /health (503) while a commit waits for the database's lock, and as before once it has it", async () => {
  const letGo = await holdWriteLock(t.gw);
  waits.stuck = true;
  let answered = false;
  const ingesting = ingest(t.gw, t.source, callEvent({ uniqueid: "while-locked" })).finally(() => (answered = true));
  try {
    const health = await healthOnceStuck(() => answered);
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: "unavailable", database: "unavailable" });

    const scrape = await get("/metrics");
    expect(scrape.status).toBe(200);
    const metrics = parsePrometheus(scrape.body as string);
    // Every counter and histogram recorded in memory...
    expect(metrics.value("gateway_events_ingested_total", { source_kind: "canonical", type: "call.end" })).toBe(1);
    expect(metrics.value("gateway_deliveries_delivered_total")).toBe(1);
    expect(metrics.value("gateway_ingest_duration_seconds_count")).toBe(1);
    expect(metrics.value("gateway_storage_unavailable_total")).toBe(0);
    // ...and the gauges read from the database left out, saying so.
    expect(metrics.types.get("gateway_database_up")).toBe("gauge");
    expect(metrics.value("gateway_database_up")).toBe(0);
    expect(metrics.samples.filter((s) => s.name.startsWith("gateway_queue_"))).toEqual([]);
    // A second probe of each, the first reads still waiting: answered the same.
    expect(parsePrometheus((await get("/metrics")).body as string).value("gateway_database_up")).toBe(0);
    expect((await get("/health")).status).toBe(503);
    // Still held: the ingest has not been answered.
    expect(answered).toBe(false);
  } finally {
    await letGo();
    waits.stuck = false;
  }
  const reason = `the database did not answer within 1000 ms`;
  expect(logged("health check failed").at(-1)).toMatchObject({ level: "error", error: reason });
  expect(logged("queue depth not read").at(-1)).toMatchObject({ level: "warn", error: reason });

  // The commit had waited for the lock, not failed; then both answer from the database again.
  expect((await ingesting).status).toBe(202);
  await t.receiver.waitFor(2);
  await t.gw.settle();
  expect((await get("/health")).body).toEqual({ status: "ok", database: "ok" });
  const after = parsePrometheus((await get("/metrics")).body as string);
  expect(after.value("gateway_database_up")).toBe(1);
  expect(after.value("gateway_queue_depth", { status: "pending" })).toBe(0);
  expect(after.value("gateway_queue_depth", { status: "delivering" })).toBe(0);
  expect(after.value("gateway_queue_due")).toBe(0);
  expect(after.value("gateway_events_ingested_total", { source_kind: "canonical", type: "call.end" })).toBe(2);
});

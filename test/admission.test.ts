import type { Socket } from "node:net";
import { Validator } from "@cfworker/json-schema";
import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_INGEST_MAX_PENDING } from "../src/api/admission.js";
import { configFromEnv } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { PausingClock } from "./support/clock.js";
import { callEvent } from "./support/events.js";
import { type Answer, holdWriteLock, ingest, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { warmUp } from "./support/warm-up.js";
import { parsePrometheus } from "./support/prometheus.js";
import { rawIngest } from "./support/raw-ingest.js";

// Node only: the gateway bounds the ingest requests it handles at once (INGEST_MAX_PENDING) and refuses the
// rest at once. Ingests are made to pend for real: another connection holds the database's write lock, so the
// gateway's commits wait for it (up to the database's 5 s busy timeout).

const MAX_PENDING = 3;
const OVER = 2;

let lines: string[];
/** What `/metrics` waits for the database on: a scrape while the lock is held waits until the test wakes it. */
let databaseWaits: PausingClock;

beforeEach(() => {
  lines = [];
  databaseWaits = new PausingClock();
});
const t = gatewayPerTest({
  start: () => startGateway({ ingestMaxPending: MAX_PENDING, log: createLogger("debug", (line) => lines.push(line)), databaseWaitClock: databaseWaits }),
  source: warmUp,
});

/** `first`: the indexes of the first `count` promises to settle; `settled`: all that have, so far. */
function firstToSettle(promises: Array<Promise<unknown>>, count: number): { first: Promise<number[]>; settled: number[] } {
  const settled: number[] = [];
  const first = new Promise<number[]>((resolve) =>
    promises.forEach((promise, i) => {
      const note = () => {
        settled.push(i);
        if (settled.length === count) resolve([...settled]);
      };
      promise.then(note, note);
    }),
  );
  return { first, settled };
}

/**
 * Sends MAX_PENDING + OVER ingests while the database is locked: MAX_PENDING are admitted and wait for the
 * lock, so the OVER others must be answered while it is still held. `during` runs then, lock still held.
 * Resolves with every answer once the lock is released and the admitted ones' deliveries are settled.
 */
async function overload(round: string, during: () => Promise<void> = async () => {}) {
  const letGo = await holdWriteLock(t.gw);
  const uniqueids = Array.from({ length: MAX_PENDING + OVER }, (_, i) => `${round}.${i}`);
  const sent = uniqueids.map((uniqueid) => ingest(t.gw, t.source, callEvent({ uniqueid })));
  const { first, settled } = firstToSettle(sent, OVER);
  let answeredWhileLocked: number[];
  try {
    // Before: every ingest waited for the lock, and each got 503 storage_unavailable after the busy timeout.
    answeredWhileLocked = await first;
    await during();
    // None of the admitted ones was answered while the lock was held: they were pending, not refused.
    expect(settled).toHaveLength(OVER);
  } finally {
    await letGo();
  }
  const answers = await Promise.all(sent);
  // Their deliveries are sent and recorded before anything else locks the database.
  await t.gw.settle();
  const refused = answeredWhileLocked.map((i) => answers[i]);
  const admitted = uniqueids.filter((_, i) => !answeredWhileLocked.includes(i));
  return { answers, refused, admitted };
}

/** A client that sent an ingest's head and part of its body, once the gateway has taken the request in; `finish` sends the rest and resolves with the answer's status line. */
async function trickling(body: string): Promise<{ socket: Socket; finish(): Promise<string> }> {
  const client = await rawIngest(t.gw, t.source, { "Content-Length": String(Buffer.byteLength(body)) });
  client.write(body.slice(0, 10));
  return { socket: client.socket, finish: () => (client.write(body.slice(10)), client.answer()) };
}

/** A scrape of `/metrics`; one made while the database is locked is answered without the queue gauges, once its wait is woken. */
async function scrape() {
  const scraping = t.gw.send("/metrics", { method: "GET" });
  await databaseWaits.asleep();
  databaseWaits.wake();
  return parsePrometheus((await scraping).body as string);
}

const refusalLines = () => lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === "ingest refused");

describe("ingest admission (INGEST_MAX_PENDING)", () => {
  it("answers 503 overloaded at once past the bound, stores nothing of it, and still answers the admin API meanwhile", async () => {
    let admin: Answer | undefined;
    const { answers, refused, admitted } = await overload("load", async () => {
      admin = await t.gw.api("GET", "/api/sources");
    });
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(answer.body.error).toMatchObject({ code: "overloaded", details: { retry_after_seconds: 1 } });
      expect(answer.body.error.message).toContain(`already handling ${MAX_PENDING} ingest requests`);
    }
    // As the OpenAPI document says of ingest's 503.
    const doc = (await t.gw.send("/openapi.json", { method: "GET" })).body;
    const documented = doc.paths["/ingest/{sourceId}"].post.responses["503"];
    expect(documented.description).toContain("`overloaded`");
    expect(documented.headers["Retry-After"].schema.type).toBe("integer");
    expect(documented.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    expect(new Validator(doc.components.schemas.Error, "2020-12").validate(refused[0].body).valid).toBe(true);

    expect(admin?.status).toBe(200);
    expect(admin?.body.data.map((s: { id: string }) => s.id)).toEqual([t.source.id]);

    // Once the lock is gone, the admitted ones are committed and delivered; the refused ones left nothing.
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(MAX_PENDING);
    await t.receiver.waitFor(1 + MAX_PENDING);
    const stored = await t.gw.sql("SELECT uniqueid FROM events ORDER BY uniqueid");
    expect(stored.map((row) => row.uniqueid)).toEqual(["before", ...admitted].sort());
    expect(await t.gw.sql("SELECT status, count(*) AS n FROM deliveries GROUP BY status")).toEqual([{ status: "delivered", n: 1 + MAX_PENDING }]);

    const metrics = parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body as string);
    expect(metrics.value("gateway_ingest_refused_total", { code: "overloaded" })).toBe(OVER);
    expect(metrics.value("gateway_storage_unavailable_total")).toBe(0);
    expect((await t.gw.send("/health", { method: "GET" })).status).toBe(200);
    // The bound holds requests in hand, not a count: with them answered, ingest takes events again.
    expect((await ingest(t.gw, t.source, callEvent({ uniqueid: "after" }))).status).toBe(202);
  });

  it("shows on /metrics the requests it handles, of INGEST_MAX_PENDING, while they pend, and 0 once they are answered", async () => {
    let during: Record<string, number | undefined> = {};
    const { answers } = await overload("gauge", async () => {
      const metrics = await scrape();
      during = { pending: metrics.value("gateway_ingest_pending"), max: metrics.value("gateway_ingest_max_pending") };
    });
    // Before: no gauge; the refusals were all an operator saw, too late for a PBX that never resends.
    expect(during).toEqual({ pending: MAX_PENDING, max: MAX_PENDING });
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(MAX_PENDING);
    const after = await scrape();
    expect(after.value("gateway_ingest_pending")).toBe(0);
    expect(after.value("gateway_ingest_max_pending")).toBe(MAX_PENDING);
  });

  it("does not count a request whose body is still coming in: slow clients cannot shut the PBXs out", async () => {
    const slow = [];
    const bodies = Array.from({ length: MAX_PENDING }, (_, i) => JSON.stringify(callEvent({ uniqueid: `slow.${i}` })));
    for (const body of bodies) slow.push(await trickling(body));
    try {
      // On /metrics too: their bytes are held (INGEST_MAX_BODY_BYTES), but none of them is a pending request.
      const metrics = await scrape();
      expect(metrics.value("gateway_ingest_pending")).toBe(0);
      expect(metrics.value("gateway_ingest_body_bytes")).toBe(bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0));
      // Before (counted from its head): the slow ones held every place, and this got 503.
      expect((await ingest(t.gw, t.source, callEvent({ uniqueid: "prompt" }))).status).toBe(202);
      for (const client of slow) expect(await client.finish()).toMatch(/^HTTP\/1\.1 202 /);
    } finally {
      for (const { socket } of slow) socket.destroy();
    }
    await t.gw.settle();
    expect(await t.gw.sql("SELECT count(*) AS n FROM events")).toEqual([{ n: 2 + MAX_PENDING }]);
  });

  it("logs refusals for overload at most once a second, each line saying how many it left out", async () => {
    await overload("first");
    t.gw.clock.advance(999);
    await overload("second");
    t.gw.clock.advance(1);
    await overload("third");
    const line = { level: "warn", source_id: t.source.id, status: 503, code: "overloaded" };
    expect(refusalLines()).toEqual([
      expect.objectContaining({ ...line, unlogged_since_last: 0 }),
      expect.objectContaining({ ...line, unlogged_since_last: 2 * OVER - 1 }),
    ]);
  });

  it("reads the bound from INGEST_MAX_PENDING and refuses anything but a whole number from 1, naming it", () => {
    expect(configFromEnv({}).ingestMaxPending).toBe(DEFAULT_INGEST_MAX_PENDING);
    expect(configFromEnv({ INGEST_MAX_PENDING: "64" }).ingestMaxPending).toBe(64);
    expect(() => configFromEnv({ INGEST_MAX_PENDING: "0" })).toThrow(/^INGEST_MAX_PENDING: must be at least 1$/);
    expect(() => configFromEnv({ INGEST_MAX_PENDING: "2.5" })).toThrow(/^INGEST_MAX_PENDING: must be a whole number$/);
    expect(() => configFromEnv({ INGEST_MAX_PENDING: "many" })).toThrow(/^INGEST_MAX_PENDING: must be a number$/);
  });
});

import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_INGEST_MAX_BODY_BYTES } from "../src/api/body-bytes.js";
import { configFromEnv } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { callEvent } from "./support/events.js";
import { createSource, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { parsePrometheus } from "./support/prometheus.js";
import { chunk, rawIngest, type RawIngest } from "./support/raw-ingest.js";
import { warmUp } from "./support/warm-up.js";

// Node only: the gateway bounds the bytes of ingest bodies it holds at once (INGEST_MAX_BODY_BYTES), bodies
// still coming in included. Bodies are held for real: clients send a head and part of a body, and wait.

const MAX_BYTES = 64 * 1024;
const HELD = 3;
/** Each held body's length: HELD of them leave less room than a LARGE one takes, and more than a SMALL one. */
const HELD_BYTES = 20_000;
const LARGE_BYTES = 8_000;
const SMALL_BYTES = 1_000;

let lines: Array<Record<string, unknown>>;
let lineLogged: () => void;

beforeEach(() => {
  lines = [];
  lineLogged = () => {};
});
const t = gatewayPerTest({
  start: () => startGateway({ ingestMaxBodyBytes: MAX_BYTES, log: createLogger("debug", (line) => (lines.push(JSON.parse(line)), lineLogged())) }),
  source: warmUp,
});

/** A call event's JSON, padded with spaces to `bytes`: one valid event all the same. */
function padded(uniqueid: string, bytes: number): string {
  const text = JSON.stringify(callEvent({ uniqueid }));
  return text + " ".repeat(bytes - Buffer.byteLength(text));
}

/** Ingests an event padded to `bytes`, its length declared (as fetch does). */
const post = (uniqueid: string, bytes: number) =>
  t.gw.send(`/ingest/${t.source.id}`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.source.secret}`, "content-type": "application/json" },
    body: padded(uniqueid, bytes),
  });

/** A client holding a HELD_BYTES body part-sent, once the gateway has taken its head in; `finish` sends the rest. */
async function holding(uniqueid: string): Promise<{ client: RawIngest; finish(): Promise<string> }> {
  const body = padded(uniqueid, HELD_BYTES);
  const client = await rawIngest(t.gw, t.source, { "Content-Length": String(HELD_BYTES) });
  client.write(body.slice(0, 10));
  return { client, finish: () => (client.write(body.slice(10)), client.answer()) };
}

/** Resolves once `count` lines saying so have been logged. */
function logged(count: number, says: (line: Record<string, unknown>) => boolean): Promise<void> {
  return new Promise((resolve) => {
    lineLogged = () => lines.filter(says).length >= count && resolve();
    lineLogged();
  });
}

const scrape = async () => parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body as string);

/** What `/metrics` shows of the bytes held now and of the bound. */
const bytesShown = async () => {
  const metrics = await scrape();
  return { held: metrics.value("gateway_ingest_body_bytes"), max: metrics.value("gateway_ingest_max_body_bytes") };
};

const storedIds = async () => (await t.gw.sql("SELECT uniqueid FROM events ORDER BY uniqueid")).map((row) => row.uniqueid);

describe("ingest body bytes (INGEST_MAX_BODY_BYTES)", () => {
  it("answers 503 overloaded at once to a body that would pass the bound while others are held part-sent, takes one that fits, and all again once they are answered", async () => {
    const held = [];
    for (let i = 0; i < HELD; i++) held.push(await holding(`held.${i}`));
    try {
      // Before: nothing bounded the bytes, and this was taken while the held ones still came in.
      const refused = await post("large", LARGE_BYTES);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.body.error).toMatchObject({ code: "overloaded", details: { retry_after_seconds: 1 } });
      expect(refused.body.error.message).toContain(`holds ${HELD * HELD_BYTES} bytes of ingest bodies, at most ${MAX_BYTES} (INGEST_MAX_BODY_BYTES)`);

      // A body without a length is counted as it comes in, and refused once it passes the bound.
      const streamed = await rawIngest(t.gw, t.source, { "Transfer-Encoding": "chunked" });
      streamed.write(chunk(padded("streamed", LARGE_BYTES)));
      expect(await streamed.answer()).toMatch(/^HTTP\/1\.1 503 /);
      streamed.socket.destroy();

      expect((await post("small", SMALL_BYTES)).status).toBe(202);
      for (const { finish } of held) expect(await finish()).toMatch(/^HTTP\/1\.1 202 /);
    } finally {
      for (const { client } of held) client.socket.destroy();
    }
    // Answered, the held ones gave their bytes back: a body as large as the bound is taken.
    expect((await post("whole", MAX_BYTES)).status).toBe(202);
    const streamed = await rawIngest(t.gw, t.source, { "Transfer-Encoding": "chunked" });
    streamed.write(chunk(padded("streamed.after", LARGE_BYTES)) + chunk(""));
    expect(await streamed.answer()).toMatch(/^HTTP\/1\.1 202 /);
    streamed.socket.destroy();

    await t.gw.settle();
    expect(await storedIds()).toEqual(["before", "held.0", "held.1", "held.2", "small", "streamed.after", "whole"]);
    const metrics = await scrape();
    expect(metrics.value("gateway_ingest_refused_total", { code: "overloaded" })).toBe(2);
    // The chunked body refused as it passed the bound gave its bytes back too.
    expect(metrics.value("gateway_ingest_body_bytes")).toBe(0);
    // The refusals for overload share the request bound's line, at most one a second.
    expect(lines.filter((line) => line.msg === "ingest refused")).toEqual([
      expect.objectContaining({ level: "warn", status: 503, code: "overloaded", unlogged_since_last: 0 }),
    ]);
  });

  it("shows on /metrics the bytes of bodies held part-sent, of INGEST_MAX_BODY_BYTES, and 0 once they are answered", async () => {
    const held = [];
    for (let i = 0; i < HELD; i++) held.push(await holding(`shown.${i}`));
    try {
      // Before: no gauge; the refusals were all an operator saw, too late for a PBX that never resends.
      expect(await bytesShown()).toEqual({ held: HELD * HELD_BYTES, max: MAX_BYTES });
      for (const { finish } of held) expect(await finish()).toMatch(/^HTTP\/1\.1 202 /);
    } finally {
      for (const { client } of held) client.socket.destroy();
    }
    expect(await bytesShown()).toEqual({ held: 0, max: MAX_BYTES });
  });

  it("gives the bytes of a body back when its client goes before sending it all", async () => {
    const held = [];
    for (let i = 0; i < HELD - 1; i++) held.push((await holding(`gone.${i}`)).client);
    // One without a length: a chunk of it sent, counted as it came in.
    const streamed = await rawIngest(t.gw, t.source, { "Transfer-Encoding": "chunked" });
    streamed.write(chunk(padded("gone.streamed", HELD_BYTES)));
    held.push(streamed);
    expect((await post("large", LARGE_BYTES)).status).toBe(503);
    // The gateway logs each request whose body it could not read to the end, once done with it: as the client's
    // doing, not as the database's (its ECONNRESET read as an outage, alerting on a PBX that hung up).
    const dropped = logged(HELD, (line) => line.msg === "ingest refused" && line.code === "body_incomplete");
    for (const client of held) client.socket.destroy();
    await dropped;
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
    const metrics = await scrape();
    expect(metrics.value("gateway_ingest_body_bytes")).toBe(0);
    expect(metrics.value("gateway_storage_unavailable_total")).toBe(0);
    expect(metrics.value("gateway_ingest_refused_total", { code: "body_incomplete" })).toBe(HELD);
    // Before the bytes were given back, this would be refused for ever.
    expect((await post("whole", MAX_BYTES)).status).toBe(202);
    await t.gw.settle();
    expect(await storedIds()).toEqual(["before", "whole"]);
  });

  it("holds nothing for a request to no source or a disabled one: strangers declaring bodies they never send shut no PBX out", async () => {
    const disabled = await createSource(t.gw);
    expect((await t.gw.api("PATCH", `/api/sources/${disabled.id}`, { enabled: false })).status).toBe(200);
    const strangers = [];
    for (const id of ["src_nobody", disabled.id, "src_nobody.2", "src_nobody.3"]) {
      strangers.push(await rawIngest(t.gw, { id, secret: "guess" }, { "Content-Length": String(HELD_BYTES) }));
    }
    try {
      // Before: their declared lengths were held until the request timed out, and this was refused.
      expect((await post("large", LARGE_BYTES)).status).toBe(202);
      // Each is answered without its body being read, and its connection closed.
      expect(await Promise.all(strangers.map((s) => s.answer()))).toEqual([
        expect.stringMatching(/^HTTP\/1\.1 404 /),
        expect.stringMatching(/^HTTP\/1\.1 403 /),
        expect.stringMatching(/^HTTP\/1\.1 404 /),
        expect.stringMatching(/^HTTP\/1\.1 404 /),
      ]);
      await Promise.all(strangers.map((s) => new Promise((closed) => (s.socket.closed ? closed(null) : s.socket.once("close", closed)))));
      expect(await bytesShown()).toEqual({ held: 0, max: MAX_BYTES });
    } finally {
      for (const { socket } of strangers) socket.destroy();
    }
  });

  it("reads the bound from INGEST_MAX_BODY_BYTES and refuses less than one 2 MiB body, naming it", () => {
    expect(configFromEnv({}).ingestMaxBodyBytes).toBe(DEFAULT_INGEST_MAX_BODY_BYTES);
    expect(configFromEnv({ INGEST_MAX_BODY_BYTES: "268435456" }).ingestMaxBodyBytes).toBe(268_435_456);
    expect(() => configFromEnv({ INGEST_MAX_BODY_BYTES: "1048576" })).toThrow(/^INGEST_MAX_BODY_BYTES: must be at least 2097152$/);
    expect(() => configFromEnv({ INGEST_MAX_BODY_BYTES: "lots" })).toThrow(/^INGEST_MAX_BODY_BYTES: must be a number$/);
  });
});

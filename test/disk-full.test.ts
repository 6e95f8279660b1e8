import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../src/api/openapi.js";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, ingest, type Answer } from "./support/gateway-api.js";
import { clientAt, spawnGateway, type ChildServer } from "./support/gateway-process.js";
import { OpenApiContract } from "./support/openapi-contract.js";
import { Receiver } from "./support/receiver.js";
import { inNamespaceOf, onSmallDisk } from "./support/small-disk.js";
import { startDevWorker, type DevWorker } from "./support/worker-dev.js";

// The database's disk fills up for real: the gateway (Node with its libSQL file, or the Workers build with
// local D1) runs in a user + mount namespace (`unshare -rm`) whose data folder is a small tmpfs, half taken
// by a ballast file, so SQLite meets ENOSPC. Nothing it could not store may be acknowledged, the PBX must be
// told to come back later, and once the ballast is deleted (space freed) the gateway must serve again, with
// everything it acknowledged, without a restart.

const TMPFS_SIZE = "2m";
const BALLAST_BYTES = 1024 * 1024;
/** The document the gateway serves (a Worker that cannot start does not): its 503s are checked against it. */
const contract = new OpenApiContract(JSON.parse(JSON.stringify(openApiDocument())));

let dir: string;
let receiver: Receiver;
/** How to stop what each test started. */
let stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-disk-full-"));
  receiver = await new Receiver().start();
});
afterEach(async () => {
  await Promise.all(stops.map((stop) => stop()));
  stops = [];
});
afterAll(async () => {
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Commands run with a fresh tmpfs of TMPFS_SIZE over `dir`, half of it taken by the ballast. */
const withBallast = (command: string[]) => onSmallDisk(dir, TMPFS_SIZE, `head -c ${BALLAST_BYTES} /dev/zero > "$0/ballast"`)(command);

/** Deletes the ballast: the disk has room again. */
function freeSpace(pid: number) {
  const rm = inNamespaceOf(pid, `rm "${join(dir, "ballast")}"`);
  expect(rm.status, rm.stderr).toBe(0);
}

async function startNode(): Promise<ChildServer> {
  const gateway = await spawnGateway({ databaseFile: join(dir, "gateway.db"), wrap: withBallast });
  stops.push(() => gateway.kill());
  return gateway;
}

async function startWorkers(): Promise<DevWorker> {
  const worker = await startDevWorker({ persistTo: dir, wrap: withBallast });
  stops.push(() => worker.stop());
  return worker;
}

type Admin = ReturnType<typeof clientAt>;

const bigEvent = (i: number) => callEvent({ caller_name: `Caller ${i} `.padEnd(200, "x"), notes: "n".repeat(2_000) });

/** Ingests until the database refuses five times; what was acknowledged, and the refusals. */
async function fillTheDisk(admin: Admin, source: Awaited<ReturnType<typeof createSource>>) {
  const accepted: string[] = [];
  const refused: Answer[] = [];
  for (let i = 0; i < 2_000 && refused.length < 5; i++) {
    const answer = await ingest(admin, source, bigEvent(i));
    if (answer.status === 202) accepted.push(answer.body.event_id);
    else refused.push(answer);
  }
  return { accepted, refused };
}

/**
 * Fills the disk of the gateway at `admin` (process `pid`): each refusal a 503 that says why and when to come
 * back, and `/health` answers one of `healthWhileFull` (returned); then frees space: each acknowledged event is
 * there with its delivery, nothing else is, ingest works and `/health` is ok.
 */
async function expectFullDiskRefusedCleanly(admin: Admin, pid: number, healthWhileFull: number[]): Promise<number> {
  const source = await createSource(admin);
  await createWebhook(admin, { url: `${receiver.url}/crm`, method: "POST_JSON", params: { uniqueid: "uniqueid" } });
  const { accepted, refused } = await fillTheDisk(admin, source);

  expect(accepted.length).toBeGreaterThan(0);
  expect(refused).toHaveLength(5);
  for (const answer of refused) {
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("30");
    expect(answer.body.error.code).toBe("storage_unavailable");
    // libSQL puts SQLite's code first, D1 last ("database or disk is full: SQLITE_FULL").
    expect(answer.body.error.message).toMatch(/^The database cannot take this now \((?=[^)]*\bSQLITE_(FULL|IOERR)\b).*\): nothing was changed; retry later$/);
    expect(contract.problems("POST", `/ingest/${source.id}`, answer)).toEqual([]);
  }

  const healthAnswer = await admin.send("/health", {});
  expect(contract.problems("GET", "/health", healthAnswer)).toEqual([]);
  const health = healthAnswer.status;
  expect(healthWhileFull).toContain(health);

  freeSpace(pid);
  expect((await admin.send("/health", {})).body).toEqual({ status: "ok", database: "ok" });
  for (const id of accepted) {
    const event = await admin.api("GET", `/api/events/${id}`);
    expect(event.status, JSON.stringify(event.body)).toBe(200);
    expect(event.body.deliveries).toHaveLength(1);
  }
  expect((await admin.api("GET", "/api/events?limit=200")).body.data).toHaveLength(accepted.length);
  expect((await ingest(admin, source, bigEvent(-1))).status).toBe(202);
  expect((await admin.send("/metrics", {})).body).toMatch(/^gateway_storage_unavailable_total 5$/m);
  return health;
}

describe("a full disk", () => {
  it("Node: answers 503 storage_unavailable with Retry-After, acknowledges only what it stored, and recovers when space is freed", async () => {
    const gateway = await startNode();
    // SQLite still reads a full disk: the database answers, so the gateway is healthy (ingest's 503s say why).
    await expectFullDiskRefusedCleanly(clientAt(gateway.url), gateway.child.pid!, [200]);
    expect(gateway.child.exitCode).toBeNull();
  });

  it("Workers: local D1 (npm run dev:worker) on the same small disk answers the same, and recovers", async () => {
    const worker = await startWorkers();
    // Whether local D1 still reads a full disk depends on where the last write stopped (its indexes' pages):
    // `/health` says which, and a failed read is logged with its reason.
    const health = await expectFullDiskRefusedCleanly(clientAt(worker.url), worker.child.pid!, [200, 503]);
    await worker.printed(/"msg":"database unavailable".*SQLITE_FULL/);
    if (health === 503) await worker.printed(/"msg":"health check failed".*SQLITE_FULL/);
    expect(worker.output()).not.toContain("unhandled error");
  }, 90_000);

  it("Workers: an isolate that cannot start on a full disk answers 503 too, and starts once there is room", async () => {
    const worker = await startWorkers();
    const pid = worker.child.pid!;
    // Migrated, and no request yet: fill what the ballast left before the Worker first runs.
    inNamespaceOf(pid, `cat /dev/zero > "${join(dir, "filler")}"`);
    const admin = clientAt(worker.url);

    const refused = await admin.send("/health", {});
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect(refused.body.error.code).toBe("storage_unavailable");
    expect(contract.problems("GET", "/health", refused)).toEqual([]);
    await worker.printed(/"msg":"database unavailable","at":"start","error":"database or disk is full: SQLITE_FULL"/);

    freeSpace(pid);
    expect((await admin.send("/health", {})).body).toEqual({ status: "ok", database: "ok" });
  }, 90_000);
});

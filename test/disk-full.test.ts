import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, ingest, type Answer } from "./support/gateway-api.js";
import { clientAt, spawnGateway, type ChildServer } from "./support/gateway-process.js";
import { Receiver } from "./support/receiver.js";

// The database's disk fills up for real: the gateway runs in a user + mount namespace (`unshare -rm`) whose
// data folder is a small tmpfs, so SQLite meets ENOSPC. Nothing it could not store may be acknowledged, the
// PBX must be told to come back later, and what was acknowledged stays whole.

const TMPFS_SIZE = "1m";

let dir: string;
let receiver: Receiver;
let gateway: ChildServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-disk-full-"));
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await gateway?.kill();
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Node's command line, run with a fresh tmpfs of TMPFS_SIZE over `dir` (the mount is the namespace's alone). */
const onSmallDisk = (command: string[]) => ["unshare", "-rm", "sh", "-c", `mount -t tmpfs -o size=${TMPFS_SIZE} tmpfs "$0" && exec "$@"`, dir, ...command];

describe("a full disk", () => {
  it("answers 503 storage_unavailable with Retry-After, acknowledges only what it stored, and goes on serving", async () => {
    gateway = await spawnGateway({ databaseFile: join(dir, "gateway.db"), wrap: onSmallDisk });
    const admin = clientAt(gateway.url);
    const source = await createSource(admin);
    await createWebhook(admin, { url: `${receiver.url}/crm`, method: "POST_JSON", params: { uniqueid: "uniqueid" } });

    const accepted: string[] = [];
    const refused: Answer[] = [];
    for (let i = 0; i < 2_000 && refused.length < 5; i++) {
      const answer = await ingest(admin, source, callEvent({ caller_name: `Caller ${i} `.padEnd(200, "x"), notes: "n".repeat(2_000) }));
      if (answer.status === 202) accepted.push(answer.body.event_id);
      else refused.push(answer);
    }

    expect(accepted.length).toBeGreaterThan(0);
    expect(refused).toHaveLength(5);
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("30");
      expect(answer.body.error.code).toBe("storage_unavailable");
      expect(answer.body.error.message).toMatch(/^The database cannot take this now \(SQLITE_(FULL|IOERR)\b.*\): nothing was changed; retry later$/);
    }
    for (const id of accepted) {
      const event = await admin.api("GET", `/api/events/${id}`);
      expect(event.status).toBe(200);
      expect(event.body.deliveries).toHaveLength(1);
    }
    expect((await admin.api("GET", "/api/events?limit=200")).body.data).toHaveLength(accepted.length);
    expect(gateway.child.exitCode).toBeNull();
  });
});

import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, ingest } from "./support/gateway-api.js";
import { clientAt, spawnGateway, type ChildServer } from "./support/gateway-process.js";
import { Receiver } from "./support/receiver.js";

// `npm run backup`: a consistent copy taken while the gateway runs and ingests, restored as the README says
// (the copy as the database file, with the key file beside it).

const ROOT = new URL("..", import.meta.url).pathname;

let dir: string;
let receiver: Receiver;
const gateways: ChildServer[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-backup-"));
  receiver = await new Receiver().start();
});
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.kill();
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the backup script as `npm run backup` does, for the database at `databaseFile`. */
function backup(databaseFile: string, ...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/runtime/node-backup.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: `file:${databaseFile}`, ENCRYPTION_KEY: "" },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}

/** The request that delivered the event with this uniqueid, once it has arrived. */
async function arrival(uniqueid: string) {
  const find = () => receiver.requests.find((request) => JSON.parse(request.body).uniqueid === uniqueid);
  while (!find()) await receiver.waitFor(receiver.requests.length + 1);
  return find()!;
}

async function start(databaseFile: string) {
  const gateway = await spawnGateway({ databaseFile });
  gateways.push(gateway);
  return clientAt(gateway.url);
}

describe("npm run backup", () => {
  it("copies every committed event while ingest goes on, and the copy restores with the key file", async () => {
    const live = join(dir, "live", "gateway.db");
    mkdirSync(join(dir, "live"));
    const admin = await start(live);
    const source = await createSource(admin);
    const rule = await createWebhook(admin, { url: `${receiver.url}/crm`, method: "POST_JSON", params: { uniqueid: "uniqueid" } });
    const before: string[] = [];
    for (let i = 0; i < 20; i++) before.push((await ingest(admin, source, callEvent())).body.event_id);

    // Ingest goes on while the backup runs.
    let stop = false;
    let acceptedDuring = 0;
    const during = (async () => {
      for (; !stop; acceptedDuring += 1) expect((await ingest(admin, source, callEvent())).status).toBe(202);
    })();
    const copyFile = join(dir, "backups", "backup.db"); // a folder not there yet
    const result = await backup(live, copyFile);
    stop = true;
    await during;

    expect(acceptedDuring).toBeGreaterThan(0);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/Backed up .*gateway\.db to .*backup\.db: \d+ events\./);
    expect(result.output).toContain(`Its secrets open only with key`);
    expect(result.output).toContain(join(dir, "live", "encryption.key"));
    const copy = createClient({ url: `file:${copyFile}` });
    expect((await copy.execute("pragma integrity_check")).rows[0][0]).toBe("ok");
    const ids = (await copy.execute("select id from events")).rows.map((row) => row.id);
    copy.close();
    expect(ids).toEqual(expect.arrayContaining(before));

    // Restored elsewhere: the copy as the database, the key file beside it.
    mkdirSync(join(dir, "restored"));
    copyFileSync(copyFile, join(dir, "restored", "gateway.db"));
    copyFileSync(join(dir, "live", "encryption.key"), join(dir, "restored", "encryption.key"));
    const restored = await start(join(dir, "restored", "gateway.db"));
    expect((await restored.api("GET", `/api/events/${before[0]}`)).status).toBe(200);
    // Its secrets open: the source's verifies the PBX, the rule's signs the delivery.
    const event = callEvent();
    expect((await ingest(restored, source, event)).status).toBe(202);
    const delivered = await arrival(event.uniqueid);
    const key = Buffer.from(rule.secret.slice("whsec_".length), "base64");
    const signed = `${delivered.headers["webhook-id"]}.${delivered.headers["webhook-timestamp"]}.${delivered.body}`;
    expect(delivered.headers["webhook-signature"]).toBe(`v1,${createHmac("sha256", key).update(signed).digest("base64")}`);
  });

  it("says when the key its secrets need is not where it looks: the gateway runs with ENCRYPTION_KEY, the backup without", async () => {
    const key = Buffer.alloc(32, 9).toString("base64");
    const keyId = createHash("sha256").update(Buffer.from(key, "base64")).digest("hex").slice(0, 8);
    const live = join(dir, "gateway.db");
    const gateway = await spawnGateway({ databaseFile: live, env: { ENCRYPTION_KEY: key } });
    gateways.push(gateway);
    await createSource(clientAt(gateway.url));
    const result = await backup(live, join(dir, "backup.db"));
    expect(result.code).toBe(0);
    expect(result.output).toContain(
      `Its secrets open only with key ${keyId}, which is not here (ENCRYPTION_KEY is not set, and there is no ${join(dir, "encryption.key")}): ` +
        "it is the key the gateway runs with. Keep a copy of it too, apart from the backup.",
    );
  });

  it("refuses a backup file that exists, a database that does not, and no file name (exit code 2); says why a copy failed (1)", async () => {
    const live = join(dir, "gateway.db");
    await start(live);
    const taken = join(dir, "taken.db");
    copyFileSync(live, taken);
    expect(await backup(live, taken)).toEqual({ code: 2, output: `${taken} exists already: give the backup a new file name\n` });
    const missing = join(dir, "nowhere.db");
    expect(await backup(missing, join(dir, "b.db"))).toEqual({ code: 2, output: `No database at ${missing} (DATABASE_URL): nothing to back up\n` });
    expect(existsSync(missing)).toBe(false);
    expect(await backup(live)).toEqual({ code: 2, output: "Usage: npm run backup -- <new backup file>\n" });
    const underAFile = join(taken, "b.db");
    const failed = await backup(live, underAFile);
    expect(failed.code).toBe(1);
    expect(failed.output).toMatch(new RegExp(`^The backup to ${underAFile} failed: EEXIST`));
  });
});

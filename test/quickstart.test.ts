import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { Receiver } from "./support/receiver.js";

// The README's quick start, as a new user runs it: `npm start`, then curl.

const ROOT = new URL("..", import.meta.url).pathname;
let dir: string;
let receiver: Receiver;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** The environment of these runs: a database of the test's, and no ADMIN_TOKEN (the gateway keeps its own). */
const envFor = (database: string) => ({ ...process.env, DATABASE_URL: `file:${join(dir, database)}`, ADMIN_TOKEN: "" });

/** `npm start` in its own process group; resolves once the banner is printed. */
function npmStart(database = "gateway.db"): Promise<Started> {
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    detached: true,
    // The receiver is on this machine: permitted the way the README's quick start says.
    env: { ...envFor(database), PORT: "0", HOST: "127.0.0.1", OUTBOUND_ALLOW: "127.0.0.0/8,::1" },
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match && /Admin token.*\n/.test(output)) resolve({ child, url: match[1], output: () => output });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
}

function stop(started: Started): Promise<void> {
  return new Promise((resolve) => {
    started.child.once("exit", () => resolve());
    process.kill(-started.child.pid!, "SIGTERM");
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-quickstart-"));
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("quick start", () => {
  it("npm start creates the database, prints the admin token once, and delivers a posted event", async () => {
    const first = await npmStart();
    const token = /Admin token \(shown once; keep it\): (adm_\S+)/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    expect(first.output()).toContain(`Console:  ${first.url}/`);
    expect(first.output()).toContain("Outbound: private destinations refused except OUTBOUND_ALLOW=127.0.0.0/8,::1");
    expect(first.output()).toContain("Retention: events and deliveries deleted after 30 days (RETENTION_DAYS)");
    const api = (path: string, body: unknown) =>
      fetch(first.url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.json());

    const source = await api("/api/sources", { name: "My PBX", kind: "canonical" });
    await api("/api/webhooks", {
      name: "CRM",
      events: ["call.end"],
      method: "GET",
      url: `${receiver.url}/crm`,
      params: { phone: "src", talk: "bill_duration" },
    });
    const ingested = await fetch(source.ingest_url, {
      method: "POST",
      headers: { authorization: `Bearer ${source.secret}`, "content-type": "application/json" },
      body: JSON.stringify(callEvent()),
    });
    expect(ingested.status).toBe(202);
    await receiver.waitFor(1);
    expect(Object.fromEntries(receiver.requests[0].query)).toEqual({ phone: "+15551234567", talk: "328" });
    await stop(first);

    // Second start: same database, the token is not printed again and still works.
    const second = await npmStart();
    expect(second.output()).not.toContain(token!);
    expect(second.output()).toContain("printed at first start");
    const listed = await fetch(`${second.url}/api/sources`, { headers: { authorization: `Bearer ${token}` } });
    expect((await listed.json()).data).toHaveLength(1);
    await stop(second);
  });

  it("npm run admin-token replaces a lost token at once: the new one works, the old one no longer, no restart", async () => {
    const running = await npmStart("lost-token.db");
    const lost = /Admin token \(shown once; keep it\): (adm_\S+)/.exec(running.output())![1];
    const sources = (bearer: string) => fetch(`${running.url}/api/sources`, { headers: { authorization: `Bearer ${bearer}` } });
    expect((await sources(lost)).status).toBe(200);

    const issued = spawnSync("npm", ["run", "admin-token", "--silent"], { cwd: ROOT, env: envFor("lost-token.db"), encoding: "utf8" });
    expect(issued.status, issued.stderr).toBe(0);
    const token = /^New admin token \(shown once; the previous one no longer works\): (adm_\S+)$/m.exec(issued.stdout)?.[1];
    expect(token).toBeDefined();
    expect(token).not.toBe(lost);
    expect((await sources(token!)).status).toBe(200);
    expect((await sources(lost)).status).toBe(401);
    await stop(running);

    // A DATABASE_URL that no gateway uses gets no token (and no new, empty database).
    const nowhere = spawnSync("npm", ["run", "admin-token", "--silent"], { cwd: ROOT, env: envFor("mistyped.db"), encoding: "utf8" });
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toMatch(/^Configuration error: no gateway database at \S+mistyped\.db \(DATABASE_URL\): start the gateway once/m);
    expect(nowhere.stdout).not.toContain("adm_");

    const refused = spawnSync("npm", ["run", "admin-token", "--silent"], {
      cwd: ROOT,
      env: { ...envFor("lost-token.db"), RETENTION_DAYS: "a month" },
      encoding: "utf8",
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("Configuration error: RETENTION_DAYS: must be a number");
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });

  it("npm start ends when npm itself is sent SIGTERM, as a supervisor signals the process it started", async () => {
    const running = await npmStart("signalled.db");
    try {
      const exited = new Promise((resolve) => running.child.once("exit", resolve));
      process.kill(running.child.pid!, "SIGTERM");
      await exited;
      // npm passes the signal to its script's shell; the gateway went on alone, holding the port, unless the
      // shell had handed its place to it.
      await expect(fetch(`${running.url}/health`)).rejects.toThrow("fetch failed");
    } finally {
      try {
        process.kill(-running.child.pid!, "SIGKILL");
      } catch {
        // Nothing left of the group.
      }
    }
  });
});

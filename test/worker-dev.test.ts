import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { ADMIN_TOKEN as TOKEN, ENCRYPTION_KEY, clientOf, createSource, createWebhook, ingest, type GatewayUnderTest } from "./support/gateway-api.js";
import { Receiver } from "./support/receiver.js";

// The README's Workers steps as a new user runs them, offline: the deploy bundle builds, and
// `npm run dev:worker` serves the gateway from local workerd with local D1 and Queues.

const ROOT = new URL("..", import.meta.url).pathname;

const OFFLINE = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
let dir: string;
let receiver: Receiver;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-worker-"));
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `npm run dev:worker` in its own process group; resolves once wrangler says it is ready. */
function devWorker(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn("npm", ["run", "dev:worker", "--silent", "--", "--ip", "127.0.0.1", "--persist-to", join(dir, "state")], {
    cwd: ROOT,
    detached: true,
    // The receiver is on this machine: permitted the way the README says.
    env: { ...OFFLINE, PORT: String(port), ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY, OUTBOUND_ALLOW: "127.0.0.0/8,::1" },
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready on http/.test(output)) resolve({ child, output: () => output });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`dev:worker exited with ${code}:\n${output}`)));
  });
}

describe("Cloudflare Workers", () => {
  it("the Worker bundles for deployment from wrangler.toml, without Node built-ins", () => {
    const out = join(dir, "bundle");
    const build = spawnSync("node_modules/.bin/wrangler", ["deploy", "--dry-run", "--outdir", out], { cwd: ROOT, env: OFFLINE, encoding: "utf8" });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    expect(build.stdout).toMatch(/env\.DELIVERIES \(call-event-deliveries\)\s+Queue/);
    expect(build.stdout).toMatch(/env\.DB \(call-event-gateway\)\s+D1 Database/);
    const bundle = readFileSync(join(out, "worker.js"), "utf8");
    expect(bundle).not.toMatch(/from\s*["']node:/);
    expect(readdirSync(out).filter((file) => file.endsWith(".hbs"))).toHaveLength(3);
  });

  it("npm run dev:worker migrates local D1 and delivers a posted event through local Queues", async () => {
    const port = await freePort();
    const started = await devWorker(port);
    try {
      expect(started.output()).toContain(`Admin token (ADMIN_TOKEN): ${TOKEN}`);
      const gw = clientOf((path, init) => fetch(`http://127.0.0.1:${port}${path}`, init)) as GatewayUnderTest;
      expect((await gw.send("/health", {})).body).toEqual({ status: "ok" });
      // The console's modules are bundled as text by wrangler.toml's rule and served as JavaScript.
      const form = await gw.send("/console/webhook-form.mjs", {});
      expect(form.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(form.body).toContain("export async function showWebhookForm(");
      const source = await createSource(gw);
      await createWebhook(gw, { url: `${receiver.url}/from-workerd` });
      expect((await ingest(gw, source, callEvent())).status).toBe(202);
      await receiver.waitFor(1);
      expect(receiver.requests[0].path).toBe("/from-workerd");
      expect(existsSync(join(dir, "state", "v3", "d1"))).toBe(true);
    } finally {
      await new Promise<void>((resolve) => {
        started.child.once("exit", () => resolve());
        process.kill(-started.child.pid!, "SIGTERM");
      });
    }
  }, 60_000);
});

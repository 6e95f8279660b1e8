import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { ENCRYPTION_KEY, ADMIN_TOKEN as TOKEN, clientOf, createSource, createWebhook, ingest, type GatewayUnderTest } from "./support/gateway-api.js";
import { Receiver } from "./support/receiver.js";
import { groupCommandLines, OFFLINE_ENV, startDevWorker } from "./support/worker-dev.js";

// The README's Workers steps as a new user runs them, offline: the deploy bundle builds, and
// `npm run dev:worker` serves the gateway from local workerd with local D1 and Queues.

const ROOT = new URL("..", import.meta.url).pathname;

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

describe("Cloudflare Workers", () => {
  it("the Worker bundles for deployment from wrangler.toml, without Node built-ins", () => {
    const out = join(dir, "bundle");
    const build = spawnSync("node_modules/.bin/wrangler", ["deploy", "--dry-run", "--outdir", out], { cwd: ROOT, env: OFFLINE_ENV, encoding: "utf8" });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    expect(build.stdout).toMatch(/env\.DELIVERIES \(call-event-deliveries\)\s+Queue/);
    expect(build.stdout).toMatch(/env\.DB \(call-event-gateway\)\s+D1 Database/);
    const bundle = readFileSync(join(out, "worker.js"), "utf8");
    expect(bundle).not.toMatch(/from\s*["']node:/);
    expect(readdirSync(out).filter((file) => file.endsWith(".hbs"))).toHaveLength(3);
  });

  it("npm run dev:worker migrates local D1 and delivers a posted event through local Queues", async () => {
    // As wrangler also takes it, `--persist-to=DIR` (disk-full.test.ts passes `--persist-to DIR`).
    const started = await startDevWorker({ persistTo: join(dir, "state"), joined: true });
    try {
      expect(started.output()).toContain(`Admin token (ADMIN_TOKEN): ${TOKEN}`);
      const gw = clientOf((path, init) => fetch(started.url + path, init)) as GatewayUnderTest;
      expect((await gw.send("/health", {})).body).toEqual({ status: "ok", database: "ok" });
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
      await started.stop();
    }
  }, 60_000);

  it("npm run dev:worker hands the Worker .dev.vars's values word for word, a `$` in them too, when another secret comes from the environment", async () => {
    // wrangler reads .dev.vars as it is, but expands `$NAME` in an --env-file: the file that carries the
    // environment's secret (ENCRYPTION_KEY here) must not change the token taken from .dev.vars.
    const token = "adm_dev$vars_${x}_0123456789";
    const devVars = join(ROOT, ".dev.vars");
    const kept = join(dir, "dev.vars.kept");
    if (existsSync(devVars)) renameSync(devVars, kept);
    writeFileSync(devVars, `ADMIN_TOKEN=${token}\n`);
    try {
      const started = await startDevWorker({ persistTo: join(dir, "state"), withoutEnv: ["ADMIN_TOKEN"] });
      try {
        expect(started.output()).toContain(`Admin token (from .dev.vars): ${token}`);
        const answer = await fetch(`${started.url}/api/webhooks`, { headers: { authorization: `Bearer ${token}` } });
        expect(answer.status).toBe(200);
      } finally {
        await started.stop();
      }
    } finally {
      rmSync(devVars, { force: true });
      if (existsSync(kept)) renameSync(kept, devVars);
    }
  }, 60_000);

  it("npm run dev:worker keeps its secrets off every command line, and a SIGTERM to npm stops wrangler and workerd", async () => {
    const started = await startDevWorker({ persistTo: join(dir, "state") });
    const npm = started.child.pid!;
    try {
      const running = groupCommandLines(npm);
      expect(running.filter((line) => line.includes("workerd serve")).length).toBeGreaterThan(0);
      for (const line of running) {
        expect(line).not.toContain(TOKEN);
        expect(line).not.toContain(ENCRYPTION_KEY);
      }
      // The Worker has them all the same: the token opens the API, the key the secrets at rest.
      const gw = clientOf((path, init) => fetch(started.url + path, init)) as GatewayUnderTest;
      expect((await createSource(gw)).secret).toMatch(/^sk_/);
      // As `kill <pid>` or a process manager does: npm alone, not its process group (which Ctrl-C reaches).
      const exited = new Promise((resolve) => started.child.once("exit", resolve));
      const closed = new Promise((resolve) => started.child.once("close", resolve));
      process.kill(npm, "SIGTERM");
      await exited;
      // npm waits for its script, which waits for wrangler, which waits for workerd.
      expect(groupCommandLines(npm).filter((line) => /wrangler\S* dev|workerd/.test(line))).toEqual([]);
      // Then esbuild's helpers end as their parents' pipes close, the last holders of the script's output.
      await closed;
      expect(groupCommandLines(npm)).toEqual([]);
    } finally {
      await started.stop();
    }
  }, 60_000);
});

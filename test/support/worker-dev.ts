import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { ADMIN_TOKEN, ENCRYPTION_KEY } from "./gateway-api.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Wrangler offline: no telemetry, no fetch of `Request.cf` from Cloudflare. */
export const OFFLINE_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

export interface DevWorker {
  child: ChildProcess;
  url: string;
  /** What wrangler and the Worker printed so far. */
  output(): string;
  /** Resolves once the output matches `pattern`: a log line may come after the response that caused it. */
  printed(pattern: RegExp): Promise<void>;
  /** Stops wrangler, workerd and the npm script (one process group), all of them. */
  stop(): Promise<void>;
}

/**
 * The command lines of the live processes in group `pgid` now, as `ps` shows them to any local user (Linux's
 * /proc). A zombie (ended, not yet reaped by whoever adopted it) is not live.
 */
export function groupCommandLines(pgid: number): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      // stat: "pid (comm) state ppid pgrp ...", comm possibly holding spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(group) !== pgid || state === "Z" || state === "X") continue;
      // An empty command line is a process exiting: its memory, command line included, is already released.
      const line = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      if (line) lines.push(line);
    } catch {
      // Gone meanwhile.
    }
  }
  return lines;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * `npm run dev:worker` (local workerd, D1 and Queues kept in `persistTo`, given as `--persist-to DIR`, or
 * `--persist-to=DIR` when `joined`) in its own process group, permitted to deliver to loopback receivers the
 * way the README says; resolves once wrangler says it is ready. A `wrap`per of the command line must end by
 * exec-ing it, so that the group is the script's. The secrets come from the environment, but for those named
 * in `withoutEnv` (then from .dev.vars).
 */
export async function startDevWorker(options: {
  persistTo: string;
  joined?: boolean;
  wrap?: (command: string[]) => string[];
  withoutEnv?: Array<"ADMIN_TOKEN" | "ENCRYPTION_KEY">;
}): Promise<DevWorker> {
  const port = await freePort();
  const wrap = options.wrap ?? ((command: string[]) => command);
  const persist = options.joined ? [`--persist-to=${options.persistTo}`] : ["--persist-to", options.persistTo];
  const [command, ...args] = wrap(["npm", "run", "dev:worker", "--silent", "--", "--ip", "127.0.0.1", ...persist]);
  const env: NodeJS.ProcessEnv = { ...OFFLINE_ENV, PORT: String(port), ADMIN_TOKEN, ENCRYPTION_KEY, OUTBOUND_ALLOW: "127.0.0.0/8,::1" };
  for (const name of options.withoutEnv ?? []) delete env[name];
  const child = spawn(command, args, { cwd: ROOT, detached: true, env });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  let waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const printed = (pattern: RegExp) => new Promise<void>((resolve) => (pattern.test(output) ? resolve() : waiters.push({ pattern, resolve })));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // ESRCH: nobody left in the group.
    }
  };
  // SIGTERM lets wrangler stop cleanly; a workerd that outlives it (seen on a full disk) goes with SIGKILL.
  const stop = async () => {
    signalGroup("SIGTERM");
    await exited;
    signalGroup("SIGKILL");
  };
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const waiter of waiters.filter((w) => w.pattern.test(output))) waiter.resolve();
      waiters = waiters.filter((w) => !w.pattern.test(output));
      if (/Ready on http/.test(output)) resolve({ child, url: `http://127.0.0.1:${port}`, output: () => output, printed, stop });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`dev:worker exited with ${code}:\n${output}`)));
  });
}

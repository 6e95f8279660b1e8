import { spawn, type ChildProcess } from "node:child_process";
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
  /** Stops wrangler, workerd and the npm script (one process group). */
  stop(): Promise<void>;
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
 * `npm run dev:worker` (local workerd, D1 and Queues kept in `persistTo`) in its own process group, permitted
 * to deliver to loopback receivers the way the README says; resolves once wrangler says it is ready. A
 * `wrap`per of the command line must end by exec-ing it, so that the group is the script's.
 */
export async function startDevWorker(options: { persistTo: string; wrap?: (command: string[]) => string[] }): Promise<DevWorker> {
  const port = await freePort();
  const wrap = options.wrap ?? ((command: string[]) => command);
  const [command, ...args] = wrap(["npm", "run", "dev:worker", "--silent", "--", "--ip", "127.0.0.1", "--persist-to", options.persistTo]);
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    env: { ...OFFLINE_ENV, PORT: String(port), ADMIN_TOKEN, ENCRYPTION_KEY, OUTBOUND_ALLOW: "127.0.0.0/8,::1" },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!/Ready on http/.test(output)) return;
      const stop = () => {
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGTERM");
        return exited;
      };
      resolve({ child, url: `http://127.0.0.1:${port}`, output: () => output, stop });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`dev:worker exited with ${code}:\n${output}`)));
  });
}

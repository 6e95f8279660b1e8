import { spawn, type ChildProcess } from "node:child_process";
import { ADMIN_TOKEN, clientOf } from "./gateway-api.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** The Node flags `npm start` runs the gateway with (package.json): a young generation sized for a server. */
const NODE_FLAGS = ["--max-semi-space-size=16"];

export interface ChildServer {
  child: ChildProcess;
  url: string;
  port: number;
  /** What it printed up to the line that says it is listening, and the rest of that write (its start-up lines). */
  printed: string;
  /** Resolves when the process has exited (after `kill`, or on its own). */
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs a TypeScript entry point as its own Node process (tsx loaded in-process, so the pid is the server's
 * own and SIGKILL hits it, not a wrapper) and resolves once it prints `listening on <url>`. A `wrap`per of
 * the command line must end by exec-ing it, for the same reason.
 */
export function spawnServer(
  script: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
  wrap: (command: string[]) => string[] = (command) => command,
): Promise<ChildServer> {
  const [command, ...args] = wrap([process.execPath, ...NODE_FLAGS, ...nodeFlags, "--import", "tsx", script]);
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env } });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (!match) return;
      child.stdout!.off("data", onData);
      child.stdout!.resume();
      const url = match[1];
      const kill = (signal: NodeJS.Signals = "SIGTERM") => (child.exitCode === null && child.signalCode === null && child.kill(signal), exited);
      resolve({ child, url, port: Number(new URL(url).port), printed: output, exited, kill });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before listening:\n${output}`)));
  });
}

/** `npm start`'s entry point on a libSQL file, loopback only, with the test admin token. */
export function spawnGateway(options: {
  databaseFile: string;
  port?: number;
  logLevel?: string;
  env?: Record<string, string>;
  nodeFlags?: string[];
  /** The command line that runs the gateway, given Node's (to start it inside a namespace, say). */
  wrap?: (command: string[]) => string[];
}): Promise<ChildServer> {
  return spawnServer("src/runtime/node-main.ts", {
    PORT: String(options.port ?? 0),
    HOST: "127.0.0.1",
    DATABASE_URL: `file:${options.databaseFile}`,
    ADMIN_TOKEN,
    LOG_LEVEL: options.logLevel ?? "warn",
    // Receivers of tests and benchmarks are on loopback, which the outbound guard refuses unless allowed.
    OUTBOUND_ALLOW: "127.0.0.0/8,::1/128",
    ...options.env,
  }, options.nodeFlags, options.wrap);
}

/** The admin client (`api`, `send`) of a gateway reached over HTTP. */
export function clientAt(url: string) {
  return clientOf((path, init) => fetch(url + path, init));
}

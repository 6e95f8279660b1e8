import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/clock.js";
import type { RetrySchedule } from "../../src/delivery/policy.js";
import { startNodeGateway, type NodeGateway } from "../../src/runtime/node.js";
import { ManualClock } from "./clock.js";

export const ADMIN_TOKEN = "test-admin-token-0123456789";

/** Short, jitter-free backoff: with the manual clock, retries take no real time. */
export const TEST_SCHEDULE: RetrySchedule = { baseDelayMs: 1_000, factor: 2, maxDelayMs: 3_600_000, jitter: 0 };

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestGateway extends NodeGateway {
  dir: string;
  clock: ManualClock;
  api<T = any>(method: string, path: string, body?: unknown): Promise<Answer<T>>;
  send(path: string, init: RequestInit): Promise<Answer>;
  /** Waits until the dispatcher has nothing in flight or waiting. */
  settle(): Promise<void>;
  /** Sweeps the outbox (as the timer would) and waits for what it picked up. */
  sweep(): Promise<void>;
  /** Stops the gateway; the database folder stays for a restart unless `remove`. */
  stop(remove?: boolean): Promise<void>;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, headers: response.headers };
}

/** The real gateway on 127.0.0.1 with a libSQL file database in a temporary folder (or `dir`, to restart). */
export async function startGateway(options: { dir?: string; clock?: ManualClock; holdInMemoryMs?: number } = {}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "gateway-test-"));
  const clock = options.clock ?? new ManualClock();
  const gateway = await startNodeGateway({
    host: "127.0.0.1",
    port: 0,
    databaseUrl: `file:${join(dir, "gateway.db")}`,
    adminToken: ADMIN_TOKEN,
    logLevel: "silent",
    clock: clock as Clock,
    schedule: TEST_SCHEDULE,
    sweepIntervalMs: 3_600_000,
    holdInMemoryMs: options.holdInMemoryMs,
  });
  const send = async (path: string, init: RequestInit) => answerOf(await fetch(gateway.url + path, init));
  const test: TestGateway = {
    ...gateway,
    dir,
    clock,
    send,
    api: (method, path, body) =>
      send(path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    settle: () => gateway.dispatcher.idle(),
    async sweep() {
      await gateway.dispatcher.sweep();
      await gateway.dispatcher.idle();
    },
    async stop(remove = true) {
      await gateway.close();
      if (remove) rmSync(dir, { recursive: true, force: true });
    },
  };
  return test;
}

/** Creates a source (canonical unless `kind` says otherwise) and returns its id and secret. */
export async function createSource(
  gw: TestGateway,
  name = "PBX",
  kind = "canonical",
  secret?: string,
): Promise<{ id: string; secret: string }> {
  const { status, body } = await gw.api("POST", "/api/sources", { name, kind, ...(secret ? { secret } : {}) });
  if (status !== 201) throw new Error(`source not created: ${JSON.stringify(body)}`);
  return { id: body.id, secret: body.secret };
}

export async function createWebhook(gw: TestGateway, rule: Record<string, unknown>): Promise<any> {
  const { status, body } = await gw.api("POST", "/api/webhooks", { name: "test rule", events: ["call.end"], ...rule });
  if (status !== 201) throw new Error(`webhook not created: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Posts events to a source the way a PBX does, with its bearer secret. */
export function ingest(gw: TestGateway, source: { id: string; secret: string }, payload: unknown): Promise<Answer> {
  return gw.send(`/ingest/${source.id}`, {
    method: "POST",
    headers: { authorization: `Bearer ${source.secret}`, "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
}

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client } from "@libsql/client";
import { DEFAULT_INGEST_MAX_PENDING } from "../../src/api/admission.js";
import { DEFAULT_INGEST_MAX_BODY_BYTES } from "../../src/api/body-bytes.js";
import { DEFAULT_RATE_LIMITS, type RateLimits } from "../../src/api/rate-limit.js";
import type { Clock } from "../../src/clock.js";
import { parseOutboundAllow } from "../../src/delivery/address-policy.js";
import type { DispatcherLimits } from "../../src/delivery/dispatcher.js";
import type { Logger } from "../../src/log.js";
import { startNodeGateway, type NodeGateway } from "../../src/runtime/node.js";
import { ManualClock } from "./clock.js";
import { ADMIN_TOKEN, clientOf, heldCall, TEST_HOLD_MS, TEST_OUTBOUND_ALLOW, TEST_SCHEDULE, type GatewayUnderTest, type HeldWrite } from "./gateway-api.js";

export * from "./gateway-api.js";

export interface TestGateway extends Omit<NodeGateway, "expire">, GatewayUnderTest {
  dir: string;
}

/** The store method making each write that tests hold (workerd holds its SQL statement instead). */
const HELD_WRITES: Record<HeldWrite, (store: NodeGateway["store"]) => [object, string]> = {
  "delete source": (store) => [store.sources, "delete"],
  "update source": (store) => [store.sources, "update"],
  "insert rule": (store) => [store.webhooks, "insert"],
  "update rule": (store) => [store.webhooks, "replace"],
  "insert missed deliveries": (store) => [store.deliveries, "insertMissing"],
  "retry delivery": (store) => [store.deliveries, "update"],
};

/** Holds the next call of `queries[method]` until released; the call then runs as it would have. */
function holdNextCall(queries: object, method: string) {
  const real = (queries as Record<string, (...args: unknown[]) => Promise<unknown>>)[method];
  const held = heldCall();
  Object.assign(queries, {
    [method]: async (...args: unknown[]) => {
      Object.assign(queries, { [method]: real });
      await held.wait();
      return real.apply(queries, args);
    },
  });
  return { reached: held.reached, release: held.release };
}

/**
 * The real gateway on 127.0.0.1 with a libSQL file database in a temporary folder (or `dir`, to restart),
 * permitted to deliver to loopback receivers (`outboundAllow`, OUTBOUND_ALLOW's syntax, to change that).
 * `onRamDisk` puts the database on /dev/shm where there is one, for tests that commit thousands of times.
 * The workerd suite swaps this module for `test/workerd/gateway.ts`, so the same test files run there.
 */
export async function startGateway(
  options: {
    dir?: string;
    clock?: ManualClock;
    holdInMemoryMs?: number;
    dispatcherLimits?: DispatcherLimits;
    metricsToken?: string;
    encryptionKey?: string;
    log?: Logger;
    outboundAllow?: string;
    rateLimits?: RateLimits;
    /** INGEST_MAX_PENDING: ingest requests handled at once before 503 `overloaded`. */
    ingestMaxPending?: number;
    /** INGEST_MAX_BODY_BYTES: bytes of ingest bodies held at once before 503 `overloaded`. */
    ingestMaxBodyBytes?: number;
    retentionDays?: number;
    trustProxyHops?: number;
    requestTimeoutMs?: number;
    onRamDisk?: boolean;
    /** What `/metrics` and `/health` wait for the database on: real time unless the test ends the waits by hand. */
    databaseWaitClock?: Clock;
    /** The admin token; null: none configured, so the gateway generates one and stores its hash (`generatedAdminToken`). */
    adminToken?: string | null;
    /** The most failed deliveries a recover request retries. */
    recoverPage?: number;
    /** The most events a replay request looks at. */
    replayPage?: number;
    /** The most bytes of events a replay request reads whole. */
    replayPageBytes?: number;
  } = {},
) {
  const scratch = options.onRamDisk && existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = options.dir ?? mkdtempSync(join(scratch, "gateway-test-"));
  const clock = options.clock ?? new ManualClock();
  const gateway = await startNodeGateway({
    host: "127.0.0.1",
    port: 0,
    databaseUrl: `file:${join(dir, "gateway.db")}`,
    databaseAuthToken: undefined,
    adminToken: options.adminToken === null ? undefined : (options.adminToken ?? ADMIN_TOKEN),
    logLevel: "silent",
    log: options.log,
    metricsToken: options.metricsToken,
    encryptionKey: options.encryptionKey,
    clock: clock as Clock,
    schedule: TEST_SCHEDULE,
    sweepIntervalMs: 3_600_000,
    holdInMemoryMs: options.holdInMemoryMs ?? TEST_HOLD_MS,
    dispatcherLimits: options.dispatcherLimits,
    outboundAllow: parseOutboundAllow(options.outboundAllow ?? TEST_OUTBOUND_ALLOW).allow,
    rateLimits: options.rateLimits ?? DEFAULT_RATE_LIMITS,
    ingestMaxPending: options.ingestMaxPending ?? DEFAULT_INGEST_MAX_PENDING,
    ingestMaxBodyBytes: options.ingestMaxBodyBytes ?? DEFAULT_INGEST_MAX_BODY_BYTES,
    retentionDays: options.retentionDays ?? 30,
    trustProxyHops: options.trustProxyHops ?? 0,
    requestTimeoutMs: options.requestTimeoutMs,
    databaseWaitClock: options.databaseWaitClock,
    recoverPage: options.recoverPage,
    replayPage: options.replayPage,
    replayPageBytes: options.replayPageBytes,
  });
  let db: Client | undefined;
  const test: TestGateway = {
    ...gateway,
    ...clientOf((path, init) => fetch(gateway.url + path, init)),
    runtime: "node",
    dir,
    clock,
    settle: () => gateway.dispatcher.idle(),
    async sweep() {
      await gateway.dispatcher.sweep();
      await gateway.dispatcher.idle();
    },
    async expire() {
      await gateway.expire();
    },
    holdNextWrite: (write) => holdNextCall(...HELD_WRITES[write](gateway.store)),

    async sql(query, args = []) {
      if (!db) {
        db = createClient({ url: `file:${join(dir, "gateway.db")}` });
        // A write here may meet the gateway's own (an attempt's outcome being recorded): wait for its lock, as the gateway does.
        await db.execute("PRAGMA busy_timeout = 5000");
      }
      const { rows, columns } = await db.execute({ sql: query, args });
      return rows.map((row) => Object.fromEntries(columns.map((column) => [column, row[column]])));
    },
    async stop(remove = true) {
      db?.close();
      await gateway.close();
      if (remove) rmSync(dir, { recursive: true, force: true });
    },
  };
  return test;
}

/**
 * Takes the gateway's database write lock from another connection, as another process would: the gateway's
 * writes then wait (up to SQLite's busy timeout) in its database thread, and every read queued behind them.
 * Resolves to the function that lets go.
 */
export async function holdWriteLock(gw: { dir: string }): Promise<() => Promise<void>> {
  const other = createClient({ url: `file:${join(gw.dir, "gateway.db")}` });
  const lock = await other.transaction("write");
  return async () => {
    await lock.rollback();
    other.close();
  };
}

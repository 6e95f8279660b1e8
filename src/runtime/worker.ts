import type { ExecutionContext, MessageBatch, ScheduledController } from "@cloudflare/workers-types";
import type { Hono } from "hono";
import { optionalTokenAuth, resolveAdminAuth } from "../api/admin-token.js";
import { errorBody, STORAGE_RETRY_AFTER_S, storageUnavailableBody } from "../api/errors.js";
import { createApp } from "../app.js";
import { systemClock, type Clock } from "../clock.js";
import { configFromEnv } from "../config.js";
import type { DeliverDeps } from "../delivery/deliver.js";
import { DEFAULT_SCHEDULE, type RetrySchedule } from "../delivery/policy.js";
import { createLogger } from "../log.js";
import { createGatewayMetrics } from "../metrics/gateway.js";
import { errorText } from "../domain/errors.js";
import { createSecretBox, parseEncryptionKeys } from "../domain/secret-box.js";
import { createStore } from "../store/index.js";
import { expireRecords } from "../store/retention.js";
import { storageFailure } from "../store/storage-failure.js";
import { sealStoredSecrets } from "../store/stored-secrets.js";
import { WORKER_CONSOLE } from "./worker-console.js";
import { workerDatabase } from "./worker-database.js";
import { queueConsumer, type QueueConsumer } from "./worker-consumer.js";
import { DEAD_LETTER_QUEUE, varsOf, type DeliveryMessage, type WorkerEnv } from "./worker-env.js";
import { WORKER_PARTIALS } from "./worker-partials.js";
import { cloudflareQueue } from "./worker-queue.js";
import { createWorkerTransport } from "./worker-transport.js";

/** What tests may replace; a deployment uses the defaults. */
interface WorkerOptions {
  clock?: Clock;
  schedule?: RetrySchedule;
  /** Pages of deliveries each cron run seals with a new key (SEALING_PAGES_PER_RUN). */
  sealingPagesPerRun?: number;
  /** Transactions each cron run's retention pass may make (EXPIRY_TRANSACTIONS_PER_RUN). */
  expiryTransactionsPerRun?: number;
  /** The most failed deliveries a recover request retries (RECOVER_PAGE). */
  recoverPage?: number;
  /** The most events a replay request looks at (REPLAY_PAGE). */
  replayPage?: number;
  /** The most bytes of events a replay request reads whole (REPLAY_PAGE_BYTES). */
  replayPageBytes?: number;
}

interface WorkerGateway {
  app: Hono;
  consumer: QueueConsumer;
  /** The cron's jobs: the sweep, retention, and sealing with a new ENCRYPTION_KEY while one takes over. */
  cron(): Promise<void>;
}

/** Deliveries are sealed with a new key a page at a time (two D1 queries): this many pages per cron run. */
const SEALING_PAGES_PER_RUN = 50;
/**
 * Transactions (one D1 query each) a cron run's retention pass may make, 80,000 events: an invocation may make
 * 1,000 D1 queries on the Paid plan, and the sweep and sealing (SEALING_PAGES_PER_RUN pages of two) take the rest.
 */
const EXPIRY_TRANSACTIONS_PER_RUN = 800;
/**
 * How long a cron run's retention pass may go on starting transactions: less than the 30 s of CPU time a
 * cron invocation on a schedule under an hour may use, even were all of it CPU (most is waiting on D1, which
 * is not counted), so within its 15 minutes of wall-clock time too, and over before the next run a minute on.
 * Each transaction is one small D1 batch, far below D1's 30 s per query.
 */
const EXPIRY_BUDGET_MS = 25_000;
/** How long isolates of the previous version may go on writing with the old key after a new one is deployed. */
const ROLLOUT_GRACE_MS = 10 * 60_000;

const NO_ADMIN_TOKEN =
  "ADMIN_TOKEN is not set: `wrangler secret put ADMIN_TOKEN` (or ADMIN_TOKEN=... in .dev.vars for wrangler dev)";

const NO_ENCRYPTION_KEY =
  "ENCRYPTION_KEY is not set: `openssl rand -base64 32 | wrangler secret put ENCRYPTION_KEY` (npm run dev:worker writes one into .dev.vars)";

/** The gateway over one env's bindings: D1 through drizzle, Queues for delivery, `fetch` for outbound HTTP. */
async function gatewayOf(env: WorkerEnv, options: WorkerOptions): Promise<WorkerGateway> {
  const config = configFromEnv(varsOf(env));
  if (!config.adminToken) throw new Error(NO_ADMIN_TOKEN);
  if (!config.encryptionKey) throw new Error(NO_ENCRYPTION_KEY);
  const clock = options.clock ?? systemClock;
  const log = createLogger(config.logLevel);
  const { db, driver } = workerDatabase(env.DB);
  const box = await createSecretBox(parseEncryptionKeys(config.encryptionKey));
  // An invocation may make only so many D1 queries: a page here, the rest from the cron.
  const sealSecrets = async (pages: number) => {
    const { records, finished } = await sealStoredSecrets(db, box, { pages, nowMs: clock.now(), graceMs: ROLLOUT_GRACE_MS });
    if (records || finished) log.info("secrets at rest sealed with the current key", { records, key_id: box.keyId, complete: finished });
  };
  await sealSecrets(1);
  const store = createStore(db, driver, box);
  const queue = cloudflareQueue(env.DELIVERIES, clock);
  const { auth } = await resolveAdminAuth(store, config.adminToken);
  // Per isolate: each isolate counts what it handled; the queue depth read from D1 is global.
  const metrics = createGatewayMetrics();
  const deps: DeliverDeps = {
    store,
    clock,
    log,
    metrics,
    transport: createWorkerTransport(config.outboundAllow),
    schedule: options.schedule ?? DEFAULT_SCHEDULE,
  };
  const app = createApp({
    store,
    clock,
    log,
    queue,
    adminAuth: auth,
    partials: WORKER_PARTIALS,
    console: WORKER_CONSOLE,
    metrics,
    metricsAuth: await optionalTokenAuth(config.metricsToken),
    outboundAllow: config.outboundAllow,
    rateLimits: config.rateLimits,
    clientAddress: (c) => c.req.header("cf-connecting-ip") ?? "unknown",
    recoverPage: options.recoverPage,
    replayPage: options.replayPage,
    replayPageBytes: options.replayPageBytes,
  });
  const consumer = queueConsumer(deps, queue);
  const cronJobs: Array<[string, () => Promise<unknown>]> = [
    ["sweep", () => consumer.sweep()],
    ["sealing secrets", () => sealSecrets(options.sealingPagesPerRun ?? SEALING_PAGES_PER_RUN)],
    [
      "deleting expired records",
      () =>
        expireRecords({ store, clock, log, metrics }, config.retentionDays, {
          budgetMs: EXPIRY_BUDGET_MS,
          maxTransactions: options.expiryTransactionsPerRun ?? EXPIRY_TRANSACTIONS_PER_RUN,
        }),
    ],
  ];
  // Each job on its own: one that fails (past the invocation's D1 query limit, say) keeps what it did, and
  // the others still run.
  const cron = async () => {
    for (const [job, run] of cronJobs) await run().catch((error) => log.error(`${job} failed`, { error: errorText(error) }));
  };
  return { app, consumer, cron };
}

/**
 * Why the gateway could not be built for a request: a database that cannot answer now is a 503 as anywhere
 * else (logged; no isolate is kept, the next request tries again), anything else a configuration error.
 */
function startFailure(error: unknown): Response {
  const unavailable = storageFailure(error);
  if (unavailable) {
    createLogger("error").error("database unavailable", { at: "start", error: unavailable });
    return Response.json(storageUnavailableBody(unavailable), { status: 503, headers: { "retry-after": String(STORAGE_RETRY_AFTER_S) } });
  }
  const message = error instanceof Error ? error.message : String(error);
  return Response.json(errorBody("not_configured", `Configuration error: ${message}`), { status: 500 });
}

/** The Worker's handlers: HTTP (API, ingest, console), the delivery queue and its dead letters, and the cron (see `cronJobs`). */
export function createWorker(options: WorkerOptions = {}) {
  // Built once per isolate and env; a failed build (bad configuration) is retried on the next request.
  const gateways = new WeakMap<WorkerEnv, Promise<WorkerGateway>>();
  const gatewayFor = (env: WorkerEnv) => {
    let gateway = gateways.get(env);
    if (!gateway) {
      gateway = gatewayOf(env, options);
      gateways.set(env, gateway);
      gateway.catch(() => gateways.delete(env));
    }
    return gateway;
  };

  return {
    async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
      let gateway: WorkerGateway;
      try {
        const building = gatewayFor(env);
        // Requests arriving meanwhile await this build, but workerd never resumes them if the request that started
        // it ends first (its client gone): the invocation is kept until the build settles.
        ctx.waitUntil(building.catch(() => undefined));
        gateway = await building;
      } catch (error) {
        return startFailure(error);
      }
      return gateway.app.fetch(request, env, ctx as never);
    },

    async queue(batch: MessageBatch<DeliveryMessage>, env: WorkerEnv): Promise<void> {
      const { consumer } = await gatewayFor(env);
      await (batch.queue === DEAD_LETTER_QUEUE ? consumer.deadLetters(batch) : consumer.consume(batch));
    },

    async scheduled(_controller: ScheduledController, env: WorkerEnv): Promise<void> {
      await (await gatewayFor(env)).cron();
    },
  };
}

export default createWorker();

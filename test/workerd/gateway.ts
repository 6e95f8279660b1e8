import {
  type QueueResult,
  applyD1Migrations,
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  reset,
  waitOnExecutionContext,
} from "cloudflare:test";
import type { D1Database, D1PreparedStatement } from "@cloudflare/workers-types";
import { env } from "cloudflare:workers";
import type { RateLimits } from "../../src/api/rate-limit.js";
import { createWorker } from "../../src/runtime/worker.js";
import { DEAD_LETTER_QUEUE, type DeliveryMessage, type WorkerEnv } from "../../src/runtime/worker-env.js";
import { ManualClock } from "../support/clock.js";
import {
  ADMIN_TOKEN,
  clientOf,
  ENCRYPTION_KEY,
  heldCall,
  TEST_HOLD_MS,
  TEST_OUTBOUND_ALLOW,
  TEST_SCHEDULE,
  type GatewayUnderTest,
  type Held,
  type HeldWrite,
} from "../support/gateway-api.js";

export * from "../support/gateway-api.js";

/**
 * The workerd twin of `test/support/gateway.ts`: the Worker's own handlers (`fetch`, `queue`,
 * `scheduled`) over the real D1 binding, each test on freshly migrated storage. The Queue producer
 * is a recorder, and `settle`/`sweep` hand its messages to the Worker's consumer as the queue would
 * once they are due on the manual clock, so retries and delays take no real time.
 * (`queue-e2e.test.ts` runs the same Worker through real Cloudflare Queues instead.)
 */

export interface TestGateway extends GatewayUnderTest {
  /** The bindings the Worker sees: the real D1, the recording producer. */
  env: WorkerEnv;
  /** Messages waiting in the queue: which delivery, and in how long (ms on the manual clock) it is due. */
  queued(): Array<{ delivery_id: string; inMs: number; attempts: number }>;
  /** Drops every waiting message, as a lost message or a crashed consumer would. */
  loseMessages(): void;
  /** The next `send`/`sendBatch` fails, as a Queues outage would. */
  failNextSend(): void;
  /** Hands these deliveries' messages to the dead-letter consumer, as the queue does after `max_retries`. */
  deadLetter(deliveryIds: string[], attempts: number): Promise<QueueResult>;
  /** Hands messages with these bodies, whatever they are, to the dead-letter consumer. */
  deadLetterBodies(bodies: unknown[], attempts: number): Promise<QueueResult>;
  /** Puts a message with this body, whatever it is, in the queue, due now: as another producer could. */
  sendBody(body: unknown): void;
  /** Holds the next D1 statement whose SQL matches (alone or in a batch) until `release()`; it then runs as it would have. */
  holdNextStatement(pattern: RegExp): Held;
}

/** The SQL of each write that tests hold (Node holds the store's method instead). */
const HELD_WRITES: Record<HeldWrite, RegExp> = {
  "delete source": /^delete from "sources"/i,
  "update source": /^update "sources"/i,
  "insert rule": /^insert into "webhooks"/i,
  "update rule": /^update "webhooks"/i,
  "insert missed deliveries": /^insert into "deliveries" [^]* select [^]* where /i,
  // Only a retry by hand starts a delivery's budget anew.
  "retry delivery": /^update "deliveries" set [^]*"budget_start" = \?/i,
};

/**
 * D1 behind a proxy through which `holdNext(pattern)` holds the next statement whose SQL matches, alone or in
 * a batch. Installed before the Worker's first request, which builds the gateway on the binding.
 */
function holdingD1(real: D1Database) {
  const unwrapped = new WeakMap<object, D1PreparedStatement>();
  const holding = new WeakSet<object>();
  let armed: { pattern: RegExp; wait(): Promise<void> } | undefined;
  const waitArmed = () => {
    const { wait } = armed!;
    armed = undefined;
    return wait();
  };
  const wrap = (statement: D1PreparedStatement, holds: boolean): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target: any, prop) {
        const value = target[prop];
        if (prop === "bind") return (...args: unknown[]) => wrap(value.apply(target, args), holds);
        if (holds && ["all", "raw", "first", "run"].includes(prop as string)) return async (...args: unknown[]) => (await waitArmed(), value.apply(target, args));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    unwrapped.set(proxy, statement);
    if (holds) holding.add(proxy);
    return proxy;
  };
  const db = new Proxy(real, {
    get(target: any, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), armed?.pattern.test(sql) === true);
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (statements.some((statement) => holding.has(statement))) await waitArmed();
          return target.batch(statements.map((statement) => unwrapped.get(statement) ?? statement));
        };
      }
      const value = target[prop];
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as D1Database;
  const holdNext = (pattern: RegExp): Held => {
    const held = heldCall();
    armed = { pattern, wait: held.wait };
    return { reached: held.reached, release: held.release };
  };
  return { db, holdNext };
}

const QUEUE = "call-event-deliveries";

interface Message {
  id: string;
  /** A DeliveryMessage, unless a test sent something else. */
  body: DeliveryMessage;
  dueAt: number;
  attempts: number;
  /** Sent by the consumer for a retry due within TEST_HOLD_MS: Node holds such a wait in memory. */
  held: boolean;
}

/**
 * Rate limits as the Worker takes them, from its vars: `ADMIN_AUTH_FAILURES_PER_MINUTE` sets both the burst
 * and the rate (burst / 60 per second), so only such pairs can be asked for.
 */
function rateLimitVars(limits: RateLimits | undefined): Record<string, string> {
  if (!limits) return {};
  const perMinute = limits.adminAuthFailures.burst;
  if (Math.abs(limits.adminAuthFailures.perSecond * 60 - perMinute) > 1e-6) {
    throw new Error("workerd takes admin auth failure limits as ADMIN_AUTH_FAILURES_PER_MINUTE: give perSecond = burst / 60");
  }
  return {
    INGEST_RATE_PER_SECOND: String(limits.ingest.perSecond),
    INGEST_BURST: String(limits.ingest.burst),
    ADMIN_AUTH_FAILURES_PER_MINUTE: String(perMinute),
  };
}

/** `onRamDisk` is for the Node harness (D1 here is miniflare's); accepted so that shared tests can ask for it. */
export async function startGateway(
  options: { clock?: ManualClock; metricsToken?: string; rateLimits?: RateLimits; retentionDays?: number; onRamDisk?: boolean; recoverPage?: number; replayPage?: number; replayPageBytes?: number } = {},
): Promise<TestGateway> {
  await reset();
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  const clock = options.clock ?? new ManualClock();
  const worker = createWorker({ clock, schedule: TEST_SCHEDULE, recoverPage: options.recoverPage, replayPage: options.replayPage, replayPageBytes: options.replayPageBytes });
  let messages: Message[] = [];
  let sequence = 0;
  let consuming = false;
  let failNext = false;
  const refuseIfAsked = () => {
    if (!failNext) return;
    failNext = false;
    throw new Error("Queue send failed: service unavailable");
  };

  const record = (delivery: DeliveryMessage, delaySeconds = 0, attempts = 1) =>
    messages.push({
      id: `msg-${++sequence}`,
      body: delivery,
      dueAt: clock.now() + delaySeconds * 1000,
      attempts,
      held: consuming && delaySeconds * 1000 <= TEST_HOLD_MS,
    });
  const producer = {
    async send(body: DeliveryMessage, options?: { delaySeconds?: number }) {
      refuseIfAsked();
      record(body, options?.delaySeconds);
    },
    async sendBatch(batch: Array<{ body: DeliveryMessage; delaySeconds?: number }>) {
      refuseIfAsked();
      for (const message of batch) record(message.body, message.delaySeconds);
    },
  };
  const d1 = holdingD1(env.DB);
  const workerEnv = {
    ...env,
    DB: d1.db,
    DELIVERIES: producer,
    ADMIN_TOKEN,
    ENCRYPTION_KEY,
    LOG_LEVEL: "silent",
    METRICS_TOKEN: options.metricsToken,
    OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    ...rateLimitVars(options.rateLimits),
    ...(options.retentionDays === undefined ? {} : { RETENTION_DAYS: String(options.retentionDays) }),
  } as unknown as WorkerEnv;

  const url = "http://gateway.test";
  const fetcher = async (path: string, init: RequestInit) => {
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request(url + path, init), workerEnv, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };

  /** Hands messages to the Worker's consumer as one batch, as the queue named would. */
  async function deliverBatch(queue: string, due: Message[]): Promise<QueueResult> {
    const batch = createMessageBatch<DeliveryMessage>(
      queue,
      due.map((m) => ({ id: m.id, timestamp: new Date(clock.now()), attempts: m.attempts, body: m.body })),
    );
    // getQueueResult reports which messages were retried but not their delay: note it on the way.
    const delays = new Map<string, number | undefined>();
    for (const message of batch.messages) {
      const retry = message.retry.bind(message);
      message.retry = (options?: { delaySeconds?: number }) => {
        delays.set(message.id, options?.delaySeconds);
        retry(options);
      };
    }
    const ctx = createExecutionContext();
    consuming = true;
    try {
      await worker.queue(batch, workerEnv);
    } finally {
      consuming = false;
    }
    const result = await getQueueResult(batch, ctx);
    return { ...result, retryMessages: result.retryMessages.map((r) => ({ ...r, delaySeconds: delays.get(r.msgId) })) };
  }

  /** The consumer's batch; the messages it retries come back later, as the queue does. */
  async function consume(due: Message[]): Promise<void> {
    const result = await deliverBatch(QUEUE, due);
    for (const retry of result.retryMessages) {
      const message = due.find((m) => m.id === retry.msgId)!;
      record(message.body, retry.delaySeconds ?? 0, message.attempts + 1);
    }
  }

  const loseMessages = () => {
    messages = [];
  };

  const takeDue = () => {
    const now = clock.now();
    const due = messages.filter((m) => m.dueAt <= now);
    messages = messages.filter((m) => m.dueAt > now);
    return due;
  };

  function deadLetterBodies(bodies: unknown[], attempts: number): Promise<QueueResult> {
    const dead = bodies.map((body) => ({ id: `dead-${++sequence}`, body: body as DeliveryMessage, dueAt: clock.now(), attempts, held: false }));
    return deliverBatch(DEAD_LETTER_QUEUE, dead);
  }

  async function cron(): Promise<void> {
    const controller = createScheduledController({ scheduledTime: clock.now(), cron: "* * * * *" });
    await worker.scheduled(controller, workerEnv);
  }

  async function settle(): Promise<void> {
    for (;;) {
      const due = takeDue();
      if (due.length) {
        await consume(due);
        continue;
      }
      const held = messages.filter((m) => m.held).sort((a, b) => a.dueAt - b.dueAt)[0];
      if (!held) return;
      clock.advance(held.dueAt - clock.now());
    }
  }

  return {
    runtime: "workers",
    url,
    clock,
    ...clientOf(fetcher),
    settle,
    async sweep() {
      await cron();
      await settle();
    },
    // The cron trigger both sweeps and deletes what has expired.
    expire: cron,
    async stop() {
      loseMessages();
    },
    async sql(query, args = []) {
      return (await workerEnv.DB.prepare(query).bind(...args).all<Record<string, unknown>>()).results;
    },
    env: workerEnv,
    queued: () => messages.map((m) => ({ delivery_id: (m.body as Partial<DeliveryMessage> | null)?.delivery_id as string, inMs: m.dueAt - clock.now(), attempts: m.attempts })),
    loseMessages,
    failNextSend() {
      failNext = true;
    },
    holdNextStatement: d1.holdNext,
    holdNextWrite: (write) => d1.holdNext(HELD_WRITES[write]),
    deadLetter: (deliveryIds, attempts) => deadLetterBodies(deliveryIds.map((delivery_id) => ({ delivery_id })), attempts),
    deadLetterBodies,
    sendBody(body) {
      record(body as DeliveryMessage);
    },
  };
}

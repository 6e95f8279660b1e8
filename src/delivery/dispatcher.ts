import pRetry, { AbortError } from "p-retry";
import { isoAt, type Clock } from "../clock.js";
import type { Logger } from "../log.js";
import type { Store } from "../store/index.js";
import type { DeliveryRow } from "../store/schema.js";
import { sendAttempt, type AttemptOutcome } from "./attempt.js";
import { DEFAULT_SCHEDULE, nextStep, type NextStep, type RetrySchedule } from "./policy.js";
import type { Transport } from "./transport.js";

export interface DispatcherOptions {
  store: Store;
  transport: Transport;
  clock: Clock;
  log: Logger;
  schedule?: RetrySchedule;
  /** Deliveries handled at once; a delivery waiting in memory for its next retry holds its place. */
  concurrency?: number;
  /** Retries due within this wait in memory; later ones are parked in the outbox for a sweep to pick up. */
  holdInMemoryMs?: number;
  /** Deliveries due per sweep. */
  sweepBatch?: number;
  random?: () => number;
}

/** Thrown inside p-retry when the next attempt should follow after `delayMs`. */
class RetryLater extends Error {
  constructor(readonly delayMs: number) {
    super(`retry in ${delayMs} ms`);
  }
}

/** Extra lease beyond the attempt itself, so that a slow database write does not let a sweep steal the delivery. */
const LEASE_MARGIN_MS = 30_000;
/** Notifications beyond this many wait in the outbox for the next sweep instead of in memory. */
const MAX_WAITING = 10_000;

/**
 * Sends deliveries: at once after ingest commits (`enqueue`), and whatever is due in the outbox (`sweep`),
 * which covers delayed deliveries, parked retries and anything left pending by a restart.
 */
export class Dispatcher {
  private readonly schedule: RetrySchedule;
  private readonly concurrency: number;
  private readonly holdInMemoryMs: number;
  private readonly sweepBatch: number;
  private readonly random: () => number;
  private readonly inflight = new Set<string>();
  private waiting: string[] = [];
  private reserved = 0;
  private idleWaiters: Array<() => void> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Aborted by `stop()`: in-flight requests and in-memory waits end; leases are taken back at the next start. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: DispatcherOptions) {
    this.schedule = options.schedule ?? DEFAULT_SCHEDULE;
    this.concurrency = options.concurrency ?? 64;
    this.holdInMemoryMs = options.holdInMemoryMs ?? 10_000;
    this.sweepBatch = options.sweepBatch ?? 200;
    this.random = options.random ?? Math.random;
  }

  /** Deliveries just committed: send now if they are due (delayed ones wait for their sweep). */
  enqueue(ids: string[]): void {
    if (this.stopping.signal.aborted) return;
    for (const id of ids) {
      if (this.waiting.length >= MAX_WAITING) break;
      if (!this.inflight.has(id)) this.waiting.push(id);
    }
    this.pump();
  }

  /** Picks up everything due in the outbox. Resolves once it is claimed, not sent: `idle()` waits for that. */
  async sweep(): Promise<void> {
    const due = await this.options.store.deliveries.dueIds(this.options.clock.now(), this.sweepBatch);
    this.enqueue(due.filter((id) => !this.inflight.has(id) && !this.waiting.includes(id)));
  }

  /** Resolves when nothing is being sent or waiting to be. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sweeps every `intervalMs` until stopped. */
  start(intervalMs: number): void {
    const tick = () => this.sweep().catch((error) => this.options.log.error("sweep failed", { error: String(error) }));
    tick();
    this.timer = setInterval(tick, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.waiting = [];
    this.stopping.abort(new Error("gateway stopping"));
    await this.idle();
  }

  private isIdle(): boolean {
    return this.inflight.size === 0 && this.waiting.length === 0 && this.reserved === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(): void {
    const free = this.concurrency - this.inflight.size - this.reserved;
    if (free <= 0 || this.waiting.length === 0) return this.settle();
    const ids = this.waiting.splice(0, free);
    this.reserved += ids.length;
    const { clock, store } = this.options;
    const now = clock.now();
    store.deliveries
      .claim(ids, now, now + this.holdInMemoryMs + LEASE_MARGIN_MS)
      .then((rows) => {
        for (const row of rows) this.run(row);
      })
      .catch((error) => this.options.log.error("claim failed", { error: String(error) }))
      .finally(() => {
        this.reserved -= ids.length;
        this.pump();
      });
  }

  private run(row: DeliveryRow): void {
    this.inflight.add(row.id);
    this.deliver(row)
      .catch((error) => this.options.log.error("delivery crashed", { delivery_id: row.id, error: String(error) }))
      .finally(() => {
        this.inflight.delete(row.id);
        this.pump();
      });
  }

  /** Attempts a claimed delivery until it is delivered, fails, or waits too long to hold in memory. */
  private async deliver(row: DeliveryRow): Promise<void> {
    const { store, clock } = this.options;
    const webhook = await store.webhooks.get(row.webhook_id);
    if (!webhook || !row.request) {
      const reason = webhook ? "nothing to send: the request was never rendered" : "webhook deleted";
      await store.deliveries.update(row.id, { status: "failed", last_error: reason, lease_until: null, updated_at: isoAt(clock.now()) });
      return;
    }
    const request = row.request;
    let attempts = row.attempt_count;
    const signal = this.stopping.signal;
    const attemptOnce = async () => {
      if (signal.aborted) throw new AbortError("gateway stopping");
      attempts += 1;
      const outcome = await sendAttempt({ id: row.id, request }, attempts, webhook, { ...this.options, signal });
      const step = nextStep(outcome.verdict, attempts, row.max_attempts, outcome.retryAfterMs, this.schedule, this.random());
      await this.record(row, outcome, step, webhook.timeout_ms);
      if (step.kind === "retry" && step.delayMs <= this.holdInMemoryMs) throw new RetryLater(step.delayMs);
      if (step.kind !== "delivered") throw new AbortError(outcome.row.error ?? step.kind);
    };
    await pRetry(attemptOnce, {
      retries: Math.max(0, row.max_attempts - row.attempt_count - 1),
      minTimeout: 0,
      factor: 1,
      onFailedAttempt: async ({ error }) => {
        if (error instanceof RetryLater) await clock.sleep(error.delayMs, signal);
      },
    }).catch((error) => {
      if (!(error instanceof AbortError) && !(error instanceof RetryLater)) throw error;
    });
  }

  /** Stores the attempt and the delivery's next state in one write. */
  private async record(row: DeliveryRow, outcome: AttemptOutcome, step: NextStep, timeoutMs: number): Promise<void> {
    const { store, clock, log } = this.options;
    const now = clock.now();
    const common = {
      attempt_count: outcome.row.number,
      last_status_code: outcome.row.status_code,
      last_error: outcome.row.error,
      updated_at: isoAt(now),
    };
    const ids = { delivery_id: row.id, event_id: row.event_id, webhook_id: row.webhook_id };
    switch (step.kind) {
      case "delivered":
        await store.deliveries.record(outcome.row, { ...common, status: "delivered", lease_until: null, delivered_at: isoAt(now) });
        log.info("delivered", { ...ids, attempt: outcome.row.number, status_code: outcome.row.status_code });
        return;
      case "retry": {
        const next = now + step.delayMs;
        // Held in memory: keep the lease past the wait and the attempt. Parked: back to the outbox until due.
        const held = step.delayMs <= this.holdInMemoryMs;
        await store.deliveries.record(outcome.row, {
          ...common,
          status: held ? "delivering" : "pending",
          next_attempt_at: next,
          lease_until: held ? next + timeoutMs + LEASE_MARGIN_MS : null,
        });
        log.info("attempt failed, will retry", { ...ids, attempt: outcome.row.number, error: outcome.row.error, retry_in_ms: step.delayMs });
        return;
      }
      case "gone":
      case "failed": {
        const reason = step.kind === "gone" ? "410 Gone: webhook disabled" : `${outcome.row.error} (${step.reason})`;
        await store.deliveries.record(outcome.row, { ...common, status: "failed", lease_until: null, last_error: reason });
        if (step.kind === "gone") await store.webhooks.disable(row.webhook_id, isoAt(now));
        log.warn("delivery failed", { ...ids, attempt: outcome.row.number, error: reason });
      }
    }
  }
}

import type { Clock } from "../clock.js";
import { errorText } from "../domain/errors.js";
import type { Logger } from "../log.js";
import type { GatewayMetrics } from "../metrics/gateway.js";
import type { Store } from "../store/index.js";
import type { DeliveryRow } from "../store/schema.js";
import { attemptDelivery, LEASE_MARGIN_MS, sendableOf } from "./deliver.js";
import { DEFAULT_SCHEDULE, type RetrySchedule } from "./policy.js";
import type { QueuedDelivery } from "./queue.js";
import type { Transport } from "./transport.js";

export interface DispatcherOptions {
  store: Store;
  transport: Transport;
  clock: Clock;
  log: Logger;
  metrics: GatewayMetrics;
  schedule?: RetrySchedule;
  /** Retries due within this wait in memory; later ones are parked in the outbox for a sweep to pick up. */
  holdInMemoryMs?: number;
}

const idOf = (item: string | DeliveryRow) => (typeof item === "string" ? item : item.id);

/** Notifications beyond this many wait in the outbox for the next sweep instead of in memory. */
const MAX_WAITING = 10_000;
/** Deliveries handled at once; a delivery waiting in memory for its next retry holds its place. */
const CONCURRENCY = 64;
/** Deliveries due per sweep. */
const SWEEP_BATCH = 200;

/**
 * Sends deliveries: at once after ingest commits (`enqueue`), and whatever is due in the outbox (`sweep`),
 * which covers delayed deliveries, parked retries and anything left pending by a restart.
 */
export class Dispatcher {
  private readonly schedule: RetrySchedule;
  private readonly holdInMemoryMs: number;
  private readonly inflight = new Set<string>();
  /** Ids to claim, or deliveries committed already leased to this dispatcher. */
  private waiting: Array<string | DeliveryRow> = [];
  private reserved = 0;
  private idleWaiters: Array<() => void> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Aborted by `stop()`: in-flight requests and in-memory waits end; leases are taken back at the next start. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: DispatcherOptions) {
    this.schedule = options.schedule ?? DEFAULT_SCHEDULE;
    this.holdInMemoryMs = options.holdInMemoryMs ?? 10_000;
  }

  /** Deliveries just committed: sent now if they are due; delayed ones wait for their sweep. */
  enqueue(deliveries: QueuedDelivery[]): void {
    const now = this.options.clock.now();
    this.take(deliveries.filter((delivery) => delivery.dueAt <= now).map((delivery) => delivery.leased ?? delivery.id));
  }

  /**
   * While this dispatcher has room, deliveries due now are committed already leased to it: no claim needed.
   * One it then cannot hold is sent by a sweep once the lease has run out.
   */
  leaseNew(nowMs: number): number | null {
    if (this.stopping.signal.aborted || this.waiting.length >= MAX_WAITING) return null;
    return nowMs + this.holdInMemoryMs + LEASE_MARGIN_MS;
  }

  private take(items: Array<string | DeliveryRow>): void {
    if (this.stopping.signal.aborted) return;
    for (const item of items) {
      if (this.waiting.length >= MAX_WAITING) break;
      if (!this.inflight.has(idOf(item))) this.waiting.push(item);
    }
    this.pump();
  }

  /** Picks up everything due in the outbox. Resolves once it is claimed, not sent: `idle()` waits for that. */
  async sweep(): Promise<void> {
    const due = await this.options.store.deliveries.dueIds(this.options.clock.now(), SWEEP_BATCH);
    const waiting = new Set(this.waiting.map(idOf));
    this.take(due.filter((id) => !this.inflight.has(id) && !waiting.has(id)));
  }

  /** Resolves when nothing is being sent or waiting to be. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sweeps every `intervalMs` until stopped. */
  start(intervalMs: number): void {
    const tick = () => this.sweep().catch((error) => this.options.log.error("sweep failed", { error: errorText(error) }));
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
    const free = CONCURRENCY - this.inflight.size - this.reserved;
    if (free <= 0 || this.waiting.length === 0) return this.settle();
    const next = this.waiting.splice(0, free);
    for (const row of next) if (typeof row !== "string") this.run(row);
    const ids = next.filter((item) => typeof item === "string");
    if (ids.length === 0) return this.pump();
    this.reserved += ids.length;
    const { clock, store } = this.options;
    const now = clock.now();
    store.deliveries
      .claim(ids, now, now + this.holdInMemoryMs + LEASE_MARGIN_MS)
      .then((rows) => {
        for (const row of rows) this.run(row);
      })
      .catch((error) => this.options.log.error("claim failed", { error: errorText(error) }))
      .finally(() => {
        this.reserved -= ids.length;
        this.pump();
      });
  }

  private run(row: DeliveryRow): void {
    this.inflight.add(row.id);
    this.deliver(row)
      .catch((error) => this.options.log.error("delivery crashed", { delivery_id: row.id, error: errorText(error) }))
      .finally(() => {
        this.inflight.delete(row.id);
        this.pump();
      });
  }

  /**
   * Attempts a claimed delivery until it is delivered, fails, or waits too long to hold in memory. Each
   * attempt takes the rule as it is then; a delivery settled while it waited (its webhook deleted or
   * disabled) is not this dispatcher's to send any more.
   */
  private async deliver(row: DeliveryRow): Promise<void> {
    const deps = { ...this.options, schedule: this.schedule, signal: this.stopping.signal };
    for (let attempt = row.attempt_count + 1; attempt <= row.max_attempts && !deps.signal.aborted; attempt++) {
      const sendable = await sendableOf(row, deps);
      if (!sendable) return;
      const { step } = await attemptDelivery(row, sendable, attempt, deps, this.holdInMemoryMs);
      // A later retry was parked in the outbox by attemptDelivery: a sweep sends it when it is due.
      if (step.kind !== "retry" || step.delayMs > this.holdInMemoryMs) return;
      await this.options.clock.sleep(step.delayMs, deps.signal);
      if (!(await this.options.store.deliveries.isSending(row.id))) return;
    }
  }
}

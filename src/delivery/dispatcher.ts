import { errorText } from "../domain/errors.js";
import type { DeliveryRow } from "../store/schema.js";
import { MAX_TIMEOUT_MS } from "../domain/webhook.js";
import { attemptDelivery, attemptLeaseFrom, countUnsendable, sendableOf, type DeliverDeps, type Step } from "./deliver.js";
import { DEFAULT_SCHEDULE, type RetrySchedule } from "./policy.js";
import type { QueuedDelivery } from "./queue.js";
import type { InFlight } from "../presets/send-hooks.js";

/** What the dispatcher sends with (as DeliverDeps), and its own settings, each with a default. */
interface DispatcherOptions extends Pick<DeliverDeps, "store" | "transport" | "clock" | "log" | "metrics"> {
  schedule?: RetrySchedule;
  /** Retries due within this wait in memory; later ones are parked in the outbox for a sweep to pick up. */
  holdInMemoryMs?: number;
  limits?: DispatcherLimits;
}

const idOf = (item: string | DeliveryRow) => (typeof item === "string" ? item : item.id);

/** Notifications beyond this many wait in the outbox for the next sweep instead of in memory. */
const MAX_WAITING = 10_000;

/** How many deliveries the dispatcher handles at once, and how they are shared among rules. */
export interface DispatcherLimits {
  /** Deliveries handled at once; a delivery waiting in memory for its next retry holds its place. */
  concurrency: number;
  /**
   * The most deliveries of one rule handled at once: a CRM that hangs, or fails and is retried, holds at most
   * this many places, and the other rules' deliveries go out meanwhile. Fewer when several rules want more
   * than an even part of the places (see `shareNow`).
   */
  ruleShare: number;
  /**
   * A rule's deliveries kept in memory beyond its share (and `MAX_WAITING` for all rules together): more are
   * handed back to the outbox, for a sweep once the rule has room.
   */
  ruleBacklog: number;
}

export const DEFAULT_DISPATCHER_LIMITS: DispatcherLimits = { concurrency: 256, ruleShare: 64, ruleBacklog: MAX_WAITING / 4 };

/** Deliveries due per sweep. */
const SWEEP_BATCH = 200;

/**
 * Sends deliveries: at once after ingest commits (`enqueue`), and whatever is due in the outbox (`sweep`),
 * which covers delayed deliveries, parked retries and anything left pending by a restart.
 */
export class Dispatcher {
  /** What every attempt is sent with: one object for the dispatcher's life. */
  private readonly deps: DeliverDeps;
  private readonly holdInMemoryMs: number;
  private readonly limits: DispatcherLimits;
  private readonly inflight = new Set<string>();
  /** Deliveries being handled, by rule. */
  private readonly ruleLoad = new Map<string, number>();
  /** Claimed deliveries of rules at their share, by rule, in order: each goes when a place of its rule frees. */
  private deferred = new Map<string, DeliveryRow[]>();
  private readonly deferredIds = new Set<string>();
  /** Ids to claim, or deliveries committed already leased to this dispatcher. */
  private waiting: Array<string | DeliveryRow> = [];
  private reserved = 0;
  /** Sweeps under way: the timer's, and those that follow a full batch. */
  private sweeping = 0;
  /** The last sweep found a full batch it could take: more may be due, swept once that batch is in hand. */
  private moreDue = false;
  /** Rules the last sweep passed over, at their share: what they have due is swept once one has room. */
  private skipped: string[] = [];
  /** Claimed deliveries past their rule's backlog, to hand back to the outbox; and writes doing so under way. */
  private lettingGo: string[] = [];
  private releasing = 0;
  /** Deliveries the stop left unsent, to the outbox for the next start: interrupted, or held here for later. */
  private handedBack = 0;
  private idleWaiters: Array<() => void> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Aborted by `stop()`: in-flight requests and in-memory waits end; leases are taken back at the next start. */
  private readonly stopping = new AbortController();
  /** One process: every attempt may join a token fetch another started (see InFlight). */
  private readonly sharedWork: InFlight = new Map();

  constructor({ schedule = DEFAULT_SCHEDULE, holdInMemoryMs = 10_000, limits = DEFAULT_DISPATCHER_LIMITS, ...sending }: DispatcherOptions) {
    this.deps = { ...sending, schedule, signal: this.stopping.signal, inFlight: this.sharedWork };
    this.holdInMemoryMs = holdInMemoryMs;
    this.limits = limits;
  }

  /** Aborted when it stops. Each attempt in flight, and each retry waited for in memory, listens on it meanwhile. */
  get stopSignal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Deliveries just committed: sent now if they are due; delayed ones wait for their sweep. */
  enqueue(deliveries: QueuedDelivery[]): void {
    const now = this.deps.clock.now();
    this.take(deliveries.filter((delivery) => delivery.dueAt <= now).map((delivery) => delivery.leased ?? delivery.id));
  }

  /**
   * While this dispatcher has room, deliveries due now are committed already leased to it: no claim needed.
   * One it then cannot hold is handed back to the outbox, for a sweep.
   */
  leaseNew(nowMs: number): number | null {
    if (this.stopping.signal.aborted || this.waiting.length >= MAX_WAITING) return null;
    return this.claimLeaseFrom(nowMs);
  }

  /**
   * The lease of a delivery claimed at `nowMs`: a while in memory, then the longest attempt a rule may make.
   * One held longer (waiting for its rule's turn) is renewed as its attempt starts (see `leaseForAttempt`).
   */
  private claimLeaseFrom(nowMs: number): number {
    return attemptLeaseFrom(nowMs + this.holdInMemoryMs, MAX_TIMEOUT_MS);
  }

  private take(items: Array<string | DeliveryRow>): void {
    if (this.stopping.signal.aborted) return;
    for (const item of items) {
      if (this.isHeld(idOf(item))) continue;
      if (this.waiting.length < MAX_WAITING) this.waiting.push(item);
      // Committed leased to this dispatcher when it had room, which ingests committed meanwhile have taken.
      else if (typeof item !== "string") this.lettingGo.push(item.id);
    }
    this.pump();
  }

  /** Whether the delivery is this dispatcher's already: being handled, or kept until its rule has room. */
  private isHeld(id: string): boolean {
    return this.inflight.has(id) || this.deferredIds.has(id);
  }

  /**
   * Picks up what is due in the outbox, but for rules at their share (they would only wait here), a batch at
   * a time: after a full batch another follows as soon as it is in hand and there is room, so that a backlog
   * goes out as fast as its CRMs take it, not a batch a second. Resolves once the first batch is taken, not
   * sent: `idle()` waits for that, and for the batches that follow.
   */
  async sweep(): Promise<void> {
    this.sweeping += 1;
    try {
      const share = this.shareNow();
      const busyRules = [...this.ruleLoad].filter(([, load]) => load >= share).map(([rule]) => rule);
      const due = await this.deps.store.deliveries.dueIds(this.deps.clock.now(), SWEEP_BATCH, busyRules);
      const waiting = new Set(this.waiting.map(idOf));
      const fresh = due.filter((id) => !this.isHeld(id) && !waiting.has(id));
      // Only a batch with something new in it calls for another: what this dispatcher holds already is due too.
      this.moreDue = due.length === SWEEP_BATCH && fresh.length > 0;
      this.skipped = busyRules;
      this.take(fresh);
    } finally {
      this.sweeping -= 1;
      this.settle();
    }
  }

  /**
   * Sweeps again once the last sweep's batch is claimed and there is room, if that batch was full or a rule it
   * passed over has room now (nothing of it kept in memory, and under `share`).
   */
  private sweepOn(free: number, share: number): void {
    if (free <= 0 || this.sweeping > 0 || this.reserved > 0 || this.waiting.length > 0 || this.stopping.signal.aborted) return;
    const roomFor = (rule: string) => (this.ruleLoad.get(rule) ?? 0) < share && !this.deferred.has(rule);
    if (!this.moreDue && !this.skipped.some(roomFor)) return;
    this.moreDue = false;
    this.skipped = [];
    this.sweep().catch((error) => this.deps.log.error("sweep failed", { error: errorText(error) }));
  }

  /** Resolves when nothing is being sent or waiting to be. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sweeps every `intervalMs` until stopped. */
  start(intervalMs: number): void {
    const tick = () => this.sweep().catch((error) => this.deps.log.error("sweep failed", { error: errorText(error) }));
    tick();
    this.timer = setInterval(tick, intervalMs);
  }

  /**
   * Stops sending; resolves once every attempt under way is recorded, to how many deliveries it left unsent:
   * attempts interrupted, retries it waited for in memory, and those waiting for a place. The next start
   * sends them.
   */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    this.handedBack += this.waiting.length + this.deferredIds.size;
    this.waiting = [];
    this.deferred = new Map();
    this.deferredIds.clear();
    this.stopping.abort(new Error("gateway stopping"));
    await this.idle();
    return this.handedBack;
  }

  private isIdle(): boolean {
    const busy = this.inflight.size + this.waiting.length + this.reserved + this.deferredIds.size + this.sweeping + this.releasing;
    return busy === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(): void {
    let free = this.limits.concurrency - this.inflight.size - this.reserved;
    // One share for the whole pump, not one per delivery: moving a kept delivery to the send leaves what each rule
    // has in hand as it was, and the deliveries taken here change it by at most this pump's places (the next
    // pump counts again).
    const share = this.shareNow();
    free -= this.runDeferred(free, share);
    const ids: string[] = [];
    while (free > 0 && this.waiting.length > 0) {
      const item = this.waiting.shift()!;
      if (typeof item === "string") ids.push(item);
      else if (!this.runOrDefer(item, share)) continue;
      free -= 1;
    }
    if (ids.length > 0) this.claim(ids);
    this.release();
    this.sweepOn(free, share);
    this.settle();
  }

  private claim(ids: string[]): void {
    this.reserved += ids.length;
    const { clock, store } = this.deps;
    const now = clock.now();
    store.deliveries
      .claim(ids, now, this.claimLeaseFrom(now))
      .then((rows) => {
        const share = this.shareNow();
        for (const row of rows) this.runOrDefer(row, share);
        this.release();
      })
      .catch((error) => this.deps.log.error("claim failed", { error: errorText(error) }))
      .finally(() => {
        this.reserved -= ids.length;
        this.pump();
      });
  }

  /**
   * Hands back to the outbox, in one write, the deliveries let go since the last time: claimed (or committed
   * leased) for this dispatcher, they would otherwise show as being sent, and not be due, until their lease
   * ran out, although nothing sends them.
   */
  private release(): void {
    if (this.lettingGo.length === 0) return;
    const ids = this.lettingGo;
    this.lettingGo = [];
    this.releasing += 1;
    this.deps.store.deliveries
      .release(ids)
      .catch((error) => this.deps.log.error("handing deliveries back to the outbox failed", { deliveries: ids.length, error: errorText(error) }))
      .finally(() => {
        this.releasing -= 1;
        this.settle();
      });
  }

  /**
   * Sends the delivery now if its rule is under `share` (true), else keeps it for when the rule has room.
   * Past the rule's backlog it is let go, back to the outbox, for a sweep to take once the rule has room.
   */
  private runOrDefer(row: DeliveryRow, share: number): boolean {
    if ((this.ruleLoad.get(row.webhook_id) ?? 0) < share) {
      this.run(row);
      return true;
    }
    const backlog = this.deferred.get(row.webhook_id) ?? [];
    if (backlog.length < this.limits.ruleBacklog && this.deferredIds.size < MAX_WAITING) {
      backlog.push(row);
      this.deferred.set(row.webhook_id, backlog);
      this.deferredIds.add(row.id);
    } else {
      this.lettingGo.push(row.id);
    }
    return false;
  }

  private run(row: DeliveryRow): void {
    const rule = row.webhook_id;
    this.inflight.add(row.id);
    this.ruleLoad.set(rule, (this.ruleLoad.get(rule) ?? 0) + 1);
    let holdsPlace = true;
    // The rule's place is for its CRM: given up once the reply is in and no retry is waited for in memory,
    // so the next delivery goes out while this one's outcome is written.
    const leaveRule = () => {
      if (!holdsPlace) return;
      holdsPlace = false;
      const load = this.ruleLoad.get(rule)! - 1;
      if (load > 0) this.ruleLoad.set(rule, load);
      else this.ruleLoad.delete(rule);
      this.pump();
    };
    this.deliver(row, leaveRule)
      .catch((error) => this.deps.log.error("delivery crashed", { delivery_id: row.id, error: errorText(error) }))
      .finally(() => {
        this.inflight.delete(row.id);
        leaveRule();
        this.pump();
      });
  }

  /**
   * The most deliveries one rule may be handling now: `ruleShare`, unless several rules want more than an even
   * part of the places, counting one more such rule so that a rule with nothing in hand yet still finds room.
   * Then each of them gets that even part, and what the rules needing less leave is shared among them too.
   * Several hung CRMs, or one CRM behind several rules, thus never take every place.
   */
  private shareNow(): number {
    const wants = [...this.inHand(), this.limits.ruleShare].sort((a, b) => a - b);
    let left = this.limits.concurrency;
    for (let i = 0; i < wants.length; i++) {
      const even = left / (wants.length - i);
      if (wants[i] >= even) return Math.max(1, Math.min(this.limits.ruleShare, Math.floor(even)));
      left -= wants[i];
    }
    return this.limits.ruleShare;
  }

  /** How many deliveries each rule with any has in hand: being handled, or kept until it has room. */
  private inHand(): number[] {
    const held = new Map(this.ruleLoad);
    for (const [rule, backlog] of this.deferred) held.set(rule, (held.get(rule) ?? 0) + backlog.length);
    return [...held.values()];
  }

  /** Sends kept deliveries of rules back under `share`, oldest first, up to `free` of them; returns how many. */
  private runDeferred(free: number, share: number): number {
    let ran = 0;
    for (const [rule, backlog] of this.deferred) {
      while (ran < free && backlog.length > 0 && (this.ruleLoad.get(rule) ?? 0) < share) {
        const row = backlog.shift()!;
        this.deferredIds.delete(row.id);
        this.run(row);
        ran += 1;
      }
      if (backlog.length === 0) this.deferred.delete(rule);
    }
    return ran;
  }

  /** Whether the attempt's next step is a retry this dispatcher waits for in memory, holding the rule's place. */
  private waitsInMemory(step: Step): step is Extract<Step, { kind: "retry" }> {
    return step.kind === "retry" && step.delayMs <= this.holdInMemoryMs;
  }

  /**
   * Whether the delivery is still this dispatcher's to send, under a lease (`lease`, as last written) that
   * outlasts an attempt starting now, renewed if it would not: it waited long for its rule's turn, or the rule's
   * timeout was raised during a retry waited for in memory. One ended meanwhile is counted if that is left here.
   */
  private async leaseForAttempt(row: DeliveryRow, lease: number, timeoutMs: number): Promise<boolean> {
    const needed = attemptLeaseFrom(this.deps.clock.now(), timeoutMs);
    if (lease >= needed) return true;
    const ending = await this.deps.store.deliveries.renewLease(row.id, needed);
    if (ending === "taken") return true;
    countUnsendable(row, ending, "webhook disabled or deleted", this.deps);
    return false;
  }

  /**
   * Attempts a claimed delivery until it is delivered, fails, or waits too long to hold in memory. Each
   * attempt takes the rule as it is then; a delivery settled meanwhile (its webhook deleted or disabled) is
   * not this dispatcher's to send any more, and is counted here if its rule's change left that to its holder.
   */
  private async deliver(row: DeliveryRow, leaveRule: () => void): Promise<void> {
    const { deps } = this;
    const { signal } = this.stopping;
    let lease = row.lease_until ?? 0;
    for (let attempt = row.attempt_count + 1; attempt <= row.max_attempts && !signal.aborted; attempt++) {
      const sendable = await sendableOf(row, deps);
      if (!sendable || !(await this.leaseForAttempt(row, lease, sendable.webhook.timeout_ms))) return;
      const { step, ending, leaseUntil } = await attemptDelivery(row, sendable, attempt, deps, this.holdInMemoryMs, (next) => {
        if (!this.waitsInMemory(next)) leaveRule();
      });
      lease = leaseUntil ?? 0;
      if (ending === "taken" && step.kind === "interrupted") this.handedBack += 1;
      // A later retry was parked in the outbox by attemptDelivery: a sweep sends it when it is due.
      if (ending !== "taken" || !this.waitsInMemory(step)) return;
      await deps.clock.sleep(step.delayMs, signal);
      const now = await deps.store.deliveries.stillSending(row.id);
      if (now !== "sending") return void countUnsendable(row, now, "webhook disabled or deleted", deps);
    }
    // The stop came before its next attempt (during a wait in memory, or before the first): still leased, it is
    // taken back at the next start.
    if (signal.aborted) this.handedBack += 1;
  }
}

import { isoAt, type Clock } from "../clock.js";
import type { Logger } from "../log.js";
import type { GatewayMetrics } from "../metrics/gateway.js";
import type { Store } from "./index.js";

/** How often a pass deletes expired records: a timer on Node, the cron trigger on Workers. */
export const EXPIRY_INTERVAL_MS = 60_000;

/** What one expiry pass deleted; `complete` when nothing past the period was left (not ended by its limits). */
export interface Expired {
  events: number;
  calls: number;
  complete: boolean;
}

/** What bounds a pass: each runtime sets them after its own limits (node.ts, worker.ts). */
interface ExpiryLimits {
  /** How long the pass may go on starting transactions, on the deps' clock. */
  budgetMs: number;
  /** Transactions the pass may make: on Workers, its share of the D1 queries an invocation may make. */
  maxTransactions: number;
  /** Ends the pass after its current transaction (the gateway stopping). */
  signal?: AbortSignal;
}

const DAY_MS = 86_400_000;

/**
 * Deletes the events received more than `retentionDays` ago (with their deliveries and attempts) and the
 * memory of calls not heard of since, so that the database stops growing. 0 keeps everything. One small
 * transaction after another until nothing past the period is left or the budget runs out: the next pass goes
 * on with the oldest left.
 */
export async function expireRecords(
  deps: { store: Store; clock: Clock; log: Logger; metrics: GatewayMetrics },
  retentionDays: number,
  limits: ExpiryLimits,
): Promise<Expired> {
  const started = deps.clock.now();
  const before = started - retentionDays * DAY_MS;
  // Nothing was received before 1970: a period reaching back further (RETENTION_DAYS=36500) keeps everything,
  // where a negative time would make an id past every real one, and every event would go.
  if (retentionDays === 0 || before <= 0) return { events: 0, calls: 0, complete: true };
  const expired: Expired = { events: 0, calls: 0, complete: false };
  let afterId: string | null = null;
  let transactions = 0;
  // At least one transaction a pass, unless the gateway is stopping (a pass asked for while it closes does nothing).
  const goOn = () =>
    !limits.signal?.aborted &&
    !expired.complete &&
    transactions < limits.maxTransactions &&
    (transactions === 0 || deps.clock.now() - started < limits.budgetMs);
  while (goOn()) {
    const batch = await deps.store.events.deleteExpiredBatch(before, afterId, started);
    transactions += 1;
    // Counted as it goes: what a pass that fails halfway (the database gone) deleted is counted all the same.
    deps.metrics.eventsExpired.inc({}, batch.events);
    expired.events += batch.events;
    expired.calls += batch.calls;
    expired.complete = !batch.full;
    afterId = batch.lastEventId;
  }
  if (expired.events || expired.calls) deps.log.info("expired records deleted", { ...expired, received_before: isoAt(before) });
  return expired;
}

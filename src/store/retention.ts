import { isoAt, type Clock } from "../clock.js";
import type { Logger } from "../log.js";
import type { GatewayMetrics } from "../metrics/gateway.js";
import type { Expired } from "./events.js";
import type { Store } from "./index.js";

/** How often expired records are deleted: a timer on Node, the cron trigger on Workers. */
export const EXPIRY_INTERVAL_MS = 60_000;

/** Transactions per pass: up to 10,000 events a minute, far above what a call centre sends. */
const BATCHES_PER_PASS = 100;

const DAY_MS = 86_400_000;

/**
 * Deletes the events received more than `retentionDays` ago (with their deliveries and attempts) and the
 * memory of calls not heard of since, so that the database stops growing. 0 keeps everything.
 */
export async function expireRecords(
  deps: { store: Store; clock: Clock; log: Logger; metrics: GatewayMetrics },
  retentionDays: number,
): Promise<Expired> {
  const before = deps.clock.now() - retentionDays * DAY_MS;
  // Nothing was received before 1970: a period reaching back further (RETENTION_DAYS=36500) keeps everything,
  // where a negative time would make an id past every real one, and every event would go.
  if (retentionDays === 0 || before <= 0) return { events: 0, calls: 0 };
  const expired = await deps.store.events.deleteExpired(before, BATCHES_PER_PASS);
  deps.metrics.eventsExpired.inc({}, expired.events);
  if (expired.events || expired.calls) deps.log.info("expired records deleted", { ...expired, received_before: isoAt(before) });
  return expired;
}

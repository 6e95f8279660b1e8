import { TEST_SOURCE_ID } from "../domain/event.js";
import type { ReplayRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import { planDeliveries } from "../delivery/plan.js";
import { canonicalOf } from "../store/events.js";
import type { AttemptRow, DeliveryRow } from "../store/schema.js";
import { addNewDeliveries, handOverNew, newLease } from "./accept.js";
import type { AppDeps } from "./deps.js";
import { msOf } from "./recover.js";
import type { ReplayView } from "./view-schemas.js";

/**
 * The most events one replay request looks at, whether or not the rule takes them: matching is done here, not
 * in the database, so a rule that takes few events still ends each request in bounded work. On Workers a page
 * costs one read, and one conditional insert per delivery made (two for one that fails to render), all in one
 * batch: at most 2 x 200 of the 1,000 queries an invocation may make, the rule's read and the Queue sends (100
 * messages each) besides; no statement binds more than 20 values, within D1's 100. The client asks again
 * while `more`.
 */
export const REPLAY_PAGE = 200;

/**
 * Makes the rule a delivery of each event received in the window that it takes now and has none of yet,
 * oldest first, a page of events at a time: rendered from the rule as it is now and made as ingest makes
 * them (one that fails to render is recorded failed, and counted). The database inserts each only if the rule
 * still has no delivery of the event, so replays at once make it once. Test sends are not replayed.
 */
export async function replayMissing(deps: AppDeps, webhook: Webhook, request: ReplayRequest): Promise<ReplayView> {
  const window = { sinceMs: msOf(request.since), untilMs: request.until === undefined ? undefined : msOf(request.until), after: request.cursor };
  const limit = deps.replayPage ?? REPLAY_PAGE;
  const found = await deps.store.events.receivedIn(webhook.id, window, limit + 1);
  const page = found.slice(0, limit);
  const nowMs = deps.clock.now();
  const leaseUntil = newLease(deps, nowMs);
  const made: { deliveries: DeliveryRow[]; attempts: AttemptRow[] } = { deliveries: [], attempts: [] };
  for (const { event, delivered } of page) {
    if (delivered || event.source_id === TEST_SOURCE_ID) continue;
    addNewDeliveries(made, await planDeliveries(canonicalOf(event), [webhook], deps.partials), event.id, nowMs, leaseUntil);
  }
  const inserted = await deps.store.deliveries.insertMissing(made.deliveries, made.attempts);
  const replayed = made.deliveries.filter((row) => inserted.has(row.id));
  await handOverNew(deps, replayed);
  const renderFailed = replayed.filter((row) => row.status === "failed").length;
  const more = found.length > limit;
  deps.log.info("missed events replayed", { webhook_id: webhook.id, replayed: replayed.length - renderFailed, render_failed: renderFailed, more });
  return { replayed: replayed.length - renderFailed, render_failed: renderFailed, more, next_cursor: more ? page[page.length - 1].event.id : null };
}

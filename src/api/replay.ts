import { TEST_SOURCE_ID } from "../domain/event.js";
import { windowOf, type ReplayRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import { planDeliveries } from "../delivery/plan.js";
import { canonicalOf, type ReceivedEvent } from "../store/events.js";
import type { AttemptRow, DeliveryRow } from "../store/schema.js";
import { addNewDeliveries, handOverNew, newLease } from "./accept.js";
import type { AppDeps } from "./deps.js";
import type { ReplayView } from "./view-schemas.js";

/**
 * The most events one replay request looks at, whether or not the rule takes them: matching is done here, not
 * in the database, so a rule that takes few events still ends each request in bounded work. On Workers a page
 * costs one read of the events' ids and sizes, one of those it may make a delivery of whole (two past 100), and
 * one conditional insert per delivery made (two for one that fails to render), all in one batch: at most 2 x 200
 * of the 1,000 queries an invocation may make, the rule's read and the Queue sends (100 messages each) besides;
 * no statement binds more than 100 values, D1's limit. The client asks again while `more`.
 */
export const REPLAY_PAGE = 200;

/**
 * The most bytes of stored payloads and fields a replay request reads whole: with events of up to 512 KiB, 200
 * of them would be 100 MiB, where a Worker has 128 MB. A page ends before the event that would pass it, but
 * always takes its first: one larger than this alone is a page of its own.
 */
export const REPLAY_PAGE_BYTES = 4 * 1024 * 1024;

/** The rule may be missing a delivery of it: it has none, and it is not a test send (never replayed). */
const mayBeMissed = (event: ReceivedEvent) => !event.delivered && event.source_id !== TEST_SOURCE_ID;

/**
 * The first of the events, up to where those that may be missed (the ones read whole) would take more than
 * `maxBytes` together; at least the first of those, however large, so that every page goes on.
 */
function withinBytes(found: ReceivedEvent[], maxBytes: number): ReceivedEvent[] {
  let bytes = 0;
  let end = 0;
  for (; end < found.length; end++) {
    const event = found[end];
    if (!mayBeMissed(event)) continue;
    if (bytes > 0 && bytes + event.bytes > maxBytes) break;
    bytes += event.bytes;
  }
  return found.slice(0, end);
}

/**
 * Makes the rule a delivery of each event received in the window that it takes now and has none of yet,
 * oldest first, a page of events at a time: rendered from the rule as it is now and made as ingest makes
 * them (one that fails to render is recorded failed, and counted). The database inserts each only if the rule
 * still has no delivery of the event, so replays at once make it once. Test sends are not replayed.
 */
export async function replayMissing(deps: AppDeps, webhook: Webhook, request: ReplayRequest): Promise<ReplayView> {
  const limit = deps.replayPage ?? REPLAY_PAGE;
  const found = await deps.store.events.receivedIn(webhook.id, windowOf(request), limit + 1);
  const page = withinBytes(found.slice(0, limit), deps.replayPageBytes ?? REPLAY_PAGE_BYTES);
  const missed = await deps.store.events.whole(page.filter(mayBeMissed).map((event) => event.id));
  const nowMs = deps.clock.now();
  const leaseUntil = newLease(deps, nowMs);
  const made: { deliveries: DeliveryRow[]; attempts: AttemptRow[] } = { deliveries: [], attempts: [] };
  for (const event of missed) {
    addNewDeliveries(made, await planDeliveries(canonicalOf(event), [webhook], deps.partials), event.id, nowMs, leaseUntil);
  }
  const inserted = await deps.store.deliveries.insertMissing(made.deliveries, made.attempts);
  const replayed = made.deliveries.filter((row) => inserted.has(row.id));
  await handOverNew(deps, replayed);
  const renderFailed = replayed.filter((row) => row.status === "failed").length;
  const more = found.length > page.length;
  deps.log.info("missed events replayed", { webhook_id: webhook.id, replayed: replayed.length - renderFailed, render_failed: renderFailed, more });
  return { replayed: replayed.length - renderFailed, render_failed: renderFailed, more, next_cursor: more ? page[page.length - 1].id : null };
}

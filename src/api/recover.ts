import { windowOf, type RecoverRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import type { DeliveryRow } from "../store/schema.js";
import { handOver } from "./accept.js";
import type { AppDeps } from "./deps.js";
import { retryDelivery } from "./retry.js";
import type { RecoverView } from "./view-schemas.js";

/**
 * The most failed deliveries one recover request retries. Each costs at most two D1 queries (its event, only
 * when it is rendered anew, and its conditional update), so a page stays well within the 1,000 queries a
 * Workers invocation may make, the rule, the page's read and its Queue sends (100 messages each) besides; no
 * statement binds more than a dozen values, far from D1's 100. On Node it is a few hundred small writes, each
 * awaited, so the event loop serves other requests between them. The client asks again while `more`.
 */
export const RECOVER_PAGE = 200;

/**
 * Retries the rule's failed deliveries created in the window, oldest first, a page at a time, each as a retry
 * by hand does; one changed meanwhile (retried by hand, say) or deleted with its event by a retention pass is
 * passed over, and one that still cannot be rendered stays failed and is counted. What was retried is then handed to the queue together.
 */
export async function recoverFailed(deps: AppDeps, webhook: Webhook, request: RecoverRequest): Promise<RecoverView> {
  const limit = deps.recoverPage ?? RECOVER_PAGE;
  const found = await deps.store.deliveries.failedOf(webhook.id, windowOf(request), limit + 1);
  const page = found.slice(0, limit);
  const retried: DeliveryRow[] = [];
  let renderFailed = 0;
  for (const row of page) {
    const retry = await retryDelivery(deps, row, webhook);
    if (retry.outcome === "retried") retried.push(retry.delivery);
    else if (retry.outcome === "render_failed") renderFailed += 1;
  }
  await handOver(deps, retried.map((row) => ({ id: row.id, dueAt: row.next_attempt_at })));
  const more = found.length > limit;
  deps.log.info("failed deliveries retried", { webhook_id: webhook.id, retried: retried.length, render_failed: renderFailed, more });
  return { retried: retried.length, render_failed: renderFailed, more, next_cursor: more ? page[page.length - 1].id : null };
}

import { isoAt } from "../clock.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { GatewayError } from "../domain/errors.js";
import type { Webhook } from "../domain/webhook.js";
import { madeForElsewhere } from "../delivery/destination.js";
import { otherCredentials } from "../delivery/rule-credentials.js";
import { renderRuleRequest } from "../delivery/plan.js";
import { presetById } from "../presets/registry.js";
import { canonicalOf } from "../store/events.js";
import type { DeliveryRow } from "../store/schema.js";
import type { AppDeps } from "./deps.js";
import { renderFailed } from "./preview.js";

/** How a retry by hand of one delivery went; one `retried` is still to be handed to the queue (`handOver`). */
export type Retry =
  | { outcome: "retried"; delivery: DeliveryRow }
  /** Being sent, or failed by its rule's change while an attempt of it was out, which may still deliver it. */
  | { outcome: "sending" }
  /** Changed since it was read: someone else sent it or retried it meanwhile. */
  | { outcome: "changed" }
  /** It had not been rendered, and still cannot be: the 422 naming the field. */
  | { outcome: "render_failed"; error: GatewayError }
  /** To be rendered anew, but its event is gone: deleted by a retention pass since the delivery was read. */
  | { outcome: "event_gone" };

/**
 * Whether an attempt of the delivery is out: it is being sent, or its rule's change failed it meanwhile and
 * its holder's lease (kept as the mark that the holder is to count it) has not run out.
 */
function attemptOut(row: DeliveryRow, nowMs: number): boolean {
  return row.status === "delivering" || (row.status === "failed" && row.lease_until !== null && row.lease_until > nowMs);
}

/**
 * Whether the stored request can go with the rule's credentials as they are now: made for where the rule sends
 * (its credentials go only there), with the fixed credential headers and query credentials it gives (filled in
 * when sent).
 */
async function fitsRuleNow(request: RenderedRequest, webhook: Webhook): Promise<boolean> {
  return !otherCredentials(request, webhook) && !(await madeForElsewhere(request, webhook, presetById(webhook.preset)));
}

/**
 * The request the delivery sends: as rendered when it was created, or rendered anew from the rule as it is now
 * when it had not been, or does not fit the rule's credentials now (see fitsRuleNow).
 */
async function requestOf(deps: AppDeps, row: DeliveryRow, webhook: Webhook): Promise<RenderedRequest | null> {
  if (row.request !== null && (await fitsRuleNow(row.request, webhook))) return row.request;
  const event = await deps.store.events.get(row.event_id);
  if (!event) return null;
  return renderRuleRequest(webhook, canonicalOf(event), deps.partials).catch((error) => {
    throw renderFailed(error);
  });
}

const isRenderFailure = (error: unknown): error is GatewayError => error instanceof GatewayError && error.code === "render_failed";

/**
 * Makes a delivery due now with a fresh retry budget (the rule's retries as they are now, the backoff starting
 * again from its first wait), as read in `row`: the same bytes when it was rendered (its credentials the rule's
 * at each attempt), or rendered anew from the current rule when rendering had failed (say, after fixing the
 * template), or the rule sends elsewhere or gives other credential headers since.
 * One being sent is left alone.
 * The retry by hand of one delivery and the recovery of a rule's failed ones both go through here.
 */
export async function retryDelivery(deps: AppDeps, row: DeliveryRow, webhook: Webhook): Promise<Retry> {
  const now = deps.clock.now();
  if (attemptOut(row, now)) return { outcome: "sending" };
  let request: RenderedRequest | null;
  try {
    request = await requestOf(deps, row, webhook);
  } catch (error) {
    if (isRenderFailure(error)) return { outcome: "render_failed", error };
    throw error;
  }
  if (request === null) return { outcome: "event_gone" };
  const changes: Partial<DeliveryRow> = {
    status: "pending",
    request,
    next_attempt_at: now,
    max_attempts: row.attempt_count + webhook.retries + 1,
    budget_start: row.attempt_count,
    last_error: null,
    delivered_at: null,
    updated_at: isoAt(now),
  };
  // Only as it was read: one the dispatcher took meanwhile is being sent (or was, and waits again with an
  // attempt more): it is not sent twice, and its budget is not counted from attempts it no longer has.
  const updated = await deps.store.deliveries.update(row.id, changes, row);
  return updated ? { outcome: "retried", delivery: updated } : { outcome: "changed" };
}

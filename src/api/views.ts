import { isoAt } from "../clock.js";
import { maskHeaders, maskSecret } from "../domain/mask.js";
import type { Webhook } from "../domain/webhook.js";
import { canonicalOf } from "../store/events.js";
import type { DeliveryRow, EventRow } from "../store/schema.js";

// How stored records are shown: secrets masked (DESIGN.md: write-only after creation), times as ISO text.

export function webhookView(webhook: Webhook, revealSecret = false) {
  const { id, name, ...rule } = webhook;
  return {
    id,
    name,
    ...rule,
    headers: maskHeaders(webhook.headers),
    secret: revealSecret ? webhook.secret : maskSecret(webhook.secret),
  };
}

export function deliveryView(row: DeliveryRow) {
  const { lease_until: _lease, ...fields } = row;
  return {
    ...fields,
    request: row.request && { ...row.request, headers: maskHeaders(row.request.headers) },
    next_attempt_at: row.status === "pending" ? isoAt(row.next_attempt_at) : null,
  };
}

/** An event in lists: the canonical event without the raw payload. */
export function eventSummary(row: EventRow) {
  const { raw: _raw, ...event } = canonicalOf(row);
  return { ...event, received_at: row.received_at };
}

/** One event: canonical and raw side by side. */
export function eventDetail(row: EventRow) {
  return { ...eventSummary(row), raw: row.raw };
}

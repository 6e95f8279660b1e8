import { isoAt } from "../clock.js";
import { maskHeaders, maskSecret } from "../domain/mask.js";
import type { RenderedRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import { maskedConfig } from "../presets/config.js";
import { presetById } from "../presets/registry.js";
import { maskSecretRefs } from "../presets/secrets.js";
import { canonicalOf } from "../store/events.js";
import type { DeliveryRow, EventRow } from "../store/schema.js";

// How stored records are shown: secrets masked (DESIGN.md: write-only after creation), times as ISO text.

/** A rule as shown: the signing secret (which may have been generated) only in the answer that created it. */
export function webhookView(webhook: Webhook, revealSecret = false) {
  const { id, name, ...rule } = webhook;
  const preset = presetById(webhook.preset);
  return {
    id,
    name,
    ...rule,
    headers: maskHeaders(webhook.headers),
    preset_config: maskedConfig(preset, webhook.preset_config),
    secret: revealSecret ? webhook.secret : maskSecret(webhook.secret),
    // Given by the integrator, never generated: masked even in the answer that created the rule.
    sqs: webhook.sqs && { ...webhook.sqs, secret_access_key: maskSecret(webhook.sqs.secret_access_key) },
  };
}

/** A request as shown: credential headers and secret settings masked. */
export function requestView(request: RenderedRequest): RenderedRequest {
  const { secrets_mark: _mark, secrets_escape: _escape, ...masked } = maskSecretRefs(request);
  return { ...masked, headers: maskHeaders(masked.headers) };
}

export function deliveryView(row: DeliveryRow) {
  const { lease_until: _lease, ...fields } = row;
  return {
    ...fields,
    request: row.request && requestView(row.request),
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

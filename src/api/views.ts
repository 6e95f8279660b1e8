import { isoAt } from "../clock.js";
import { maskHeaders, maskSecret, maskUrl } from "../domain/mask.js";
import type { RenderedRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import { maskedConfig } from "../presets/config.js";
import { presetById } from "../presets/registry.js";
import { maskSecretRefs } from "../presets/secrets.js";
import { canonicalOf } from "../store/events.js";
import type { Source } from "../store/sources.js";
import type { AttemptRow, DeliveryRow, EventRow } from "../store/schema.js";
import type {
  DeliveryDetail,
  DeliveryView,
  EventDetail,
  EventSummary,
  List,
  RequestView,
  RulesWithoutDelivery,
  SourceView,
  WebhookView,
} from "./view-schemas.js";

// How stored records are shown: secrets masked (DESIGN.md: write-only after creation), times as ISO text.
// Their types are view-schemas.ts's, which /openapi.json documents.

/** A list answered whole (sources, rules, presets, samples), or a page of one. */
export function listView<T>(data: T[], next_cursor: string | null = null): List<T> {
  return { data, next_cursor };
}

/** A source as shown: the secret masked unless this is the response that created it. */
export function sourceView(source: Source, origin: string, revealSecret = false): SourceView {
  return {
    ...source,
    secret: revealSecret ? source.secret : maskSecret(source.secret),
    ingest_url: `${origin}/ingest/${source.id}`,
  };
}

/** A rule as shown: the signing secret (which may have been generated) only in the answer that created it. */
export function webhookView(webhook: Webhook, revealSecret = false): WebhookView {
  const { id, name, ...rule } = webhook;
  const preset = presetById(webhook.preset);
  return {
    id,
    name,
    ...rule,
    url: maskUrl(webhook.url, true),
    headers: maskHeaders(webhook.headers),
    preset_config: maskedConfig(preset, webhook.preset_config),
    secret: revealSecret ? webhook.secret : maskSecret(webhook.secret),
    // Given by the integrator, never generated: masked even in the answer that created the rule.
    sqs: webhook.sqs && { ...webhook.sqs, secret_access_key: maskSecret(webhook.sqs.secret_access_key) },
  };
}

/** A request as shown: credential headers, credentials in the URL's query and secret settings masked. */
export function requestView(request: RenderedRequest): RequestView {
  const { secrets_mark: _mark, secrets_escape: _escape, secrets_for: _for, ...masked } = maskSecretRefs(request);
  return { ...masked, url: maskUrl(masked.url, false), headers: maskHeaders(masked.headers) };
}

export function deliveryView(row: DeliveryRow): DeliveryView {
  const { lease_until: _lease, budget_start: _budget, ...fields } = row;
  return {
    ...fields,
    request: row.request && requestView(row.request),
    next_attempt_at: row.status === "pending" ? isoAt(row.next_attempt_at) : null,
  };
}

/** One delivery: with every attempt. */
export function deliveryDetail(row: DeliveryRow, attempts: AttemptRow[]): DeliveryDetail {
  return { ...deliveryView(row), attempts };
}

/** An event in lists: the canonical event without the raw payload. */
export function eventSummary(row: EventRow): EventSummary {
  const { raw: _raw, ...event } = canonicalOf(row);
  return { ...event, received_at: row.received_at };
}

/** One event: canonical and raw side by side, its deliveries, and why the other rules made none. */
export function eventDetail(row: EventRow, deliveries: DeliveryRow[], rules_without_delivery: RulesWithoutDelivery): EventDetail {
  return { ...eventSummary(row), raw: row.raw, deliveries: deliveries.map(deliveryView), rules_without_delivery };
}

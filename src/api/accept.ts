import { isoAt } from "../clock.js";
import { errorText } from "../domain/errors.js";
import { canonicalEvent, type CanonicalEvent, type NormalizedEvent } from "../domain/event.js";
import { ID_PREFIX, newId } from "../domain/ids.js";
import type { Webhook } from "../domain/webhook.js";
import { renderFailure } from "../delivery/attempt.js";
import { planDeliveries, renderDraft, type DeliveryDraft } from "../delivery/plan.js";
import type { QueuedDelivery } from "../delivery/queue.js";
import { isDuplicateEvent, type IngestBatch } from "../store/events.js";
import type { DeliveryRow, EventRow } from "../store/schema.js";
import type { Source } from "../store/sources.js";
import type { AppDeps } from "./deps.js";

export interface Accepted {
  event_id: string;
  deliveries: number;
  /** True when this PBX event was already stored: the first event's id is answered. */
  duplicate: boolean;
}

function eventRow(event: CanonicalEvent, dedupeKey: string, receivedAt: string): EventRow {
  const { event_id, type, source, source_id, raw, ...fields } = event;
  return {
    id: event_id,
    source_id,
    source,
    type,
    uniqueid: fields.uniqueid,
    direction: fields.direction,
    occurred_at: fields.occurred_at,
    dedupe_key: dedupeKey,
    fields,
    raw: raw ?? null,
    received_at: receivedAt,
  };
}

/** A new delivery: failed if it could not be rendered, leased to the queue if it takes it now, else pending. */
function deliveryRow(draft: DeliveryDraft, eventId: string, nowMs: number, leaseUntil: number | null): DeliveryRow {
  const failed = draft.request === null;
  const leased = !failed && leaseUntil !== null && draft.webhook.delay_seconds === 0;
  return {
    id: newId(ID_PREFIX.delivery, nowMs),
    event_id: eventId,
    webhook_id: draft.webhook.id,
    status: failed ? "failed" : leased ? "delivering" : "pending",
    request: draft.request,
    max_attempts: draft.webhook.retries + 1,
    attempt_count: failed ? 1 : 0,
    budget_start: 0,
    next_attempt_at: nowMs + draft.webhook.delay_seconds * 1000,
    lease_until: leased ? leaseUntil : null,
    last_status_code: null,
    last_error: failed ? `render failed: ${draft.error}` : null,
    created_at: isoAt(nowMs),
    updated_at: isoAt(nowMs),
    delivered_at: null,
  };
}

/** The rows one ingest commits, and the lease its deliveries due now are committed with (if any). */
interface AcceptBatch extends IngestBatch {
  leaseUntil: number | null;
}

/** The lease deliveries due now are committed with, if the queue takes them now (see `leaseNew`). */
export const newLease = (deps: AppDeps, nowMs: number): number | null => deps.queue.leaseNew?.(nowMs) ?? null;

const emptyBatch = (deps: AppDeps, nowMs: number): AcceptBatch => ({
  events: [],
  deliveries: [],
  attempts: [],
  calls: [],
  leaseUntil: newLease(deps, nowMs),
});

/** Adds one delivery of the event per draft to `made`, and a failed attempt for each that could not be rendered. */
export function addNewDeliveries(
  made: Pick<IngestBatch, "deliveries" | "attempts">,
  drafts: DeliveryDraft[],
  eventId: string,
  nowMs: number,
  leaseUntil: number | null,
): void {
  for (const draft of drafts) {
    const row = deliveryRow(draft, eventId, nowMs, leaseUntil);
    made.deliveries.push(row);
    if (draft.error !== null) made.attempts.push(renderFailure(row.id, draft.error, nowMs));
  }
}

/** Adds an event and its new deliveries to the batch. */
function addToBatch(batch: AcceptBatch, event: CanonicalEvent, key: string, drafts: DeliveryDraft[], nowMs: number) {
  batch.events.push(eventRow(event, key, isoAt(nowMs)));
  addNewDeliveries(batch, drafts, event.event_id, nowMs, batch.leaseUntil);
}

/**
 * Tells the queue about deliveries already committed. Committed is what counts: a queue that refuses the
 * hand-over (a Queues outage) leaves them to the sweep, logged, and the request still succeeds.
 */
export async function handOver(deps: Pick<AppDeps, "queue" | "log">, deliveries: QueuedDelivery[]): Promise<void> {
  if (!deliveries.length) return;
  await Promise.resolve()
    .then(() => deps.queue.enqueue(deliveries))
    .catch((error) => deps.log.error("queue hand-over failed; the sweep will send these", { deliveries: deliveries.length, error: errorText(error) }));
}

/**
 * Hands new deliveries, once committed, to the queue (but those that failed to render), and counts them: as
 * created, and those failed as failed to render.
 */
export async function handOverNew(deps: AppDeps, deliveries: DeliveryRow[]): Promise<void> {
  const queued = (row: DeliveryRow) => ({ id: row.id, dueAt: row.next_attempt_at, leased: row.status === "delivering" ? row : undefined });
  await handOver(deps, deliveries.filter((row) => row.status !== "failed").map(queued));
  deps.metrics.deliveriesCreated.inc({}, deliveries.length);
  for (const row of deliveries.filter((delivery) => delivery.status === "failed")) {
    deps.metrics.deliveriesFailed.inc({ reason: "render" });
    deps.log.warn("delivery failed", { delivery_id: row.id, event_id: row.event_id, webhook_id: row.webhook_id, attempt: 1, error: row.last_error });
  }
}

/** Commits, then hands the deliveries due now to the queue; the caller acknowledges only after this resolves. */
async function commitAndEnqueue(deps: AppDeps, batch: AcceptBatch): Promise<void> {
  await deps.store.events.commit(batch);
  await handOverNew(deps, batch.deliveries);
  for (const row of batch.events) {
    const deliveryIds = batch.deliveries.filter((delivery) => delivery.event_id === row.id).map((delivery) => delivery.id);
    deps.log.info("event accepted", { event_id: row.id, source_id: row.source_id, type: row.type, uniqueid: row.uniqueid, delivery_ids: deliveryIds });
  }
}

/** Events of this source already stored for the items' dedupe keys (by key), and how many deliveries each has. */
async function storedEvents(deps: AppDeps, source: Source, items: NormalizedEvent[]) {
  const keys = [...new Set(items.map((item) => item.dedupe_key))];
  const ids = await deps.store.events.idsByDedupeKey(source.id, keys);
  return { ids, counts: await deps.store.events.deliveryCounts([...ids.values()]) };
}

const NONE_STORED = { ids: new Map<string, string>(), counts: new Map<string, number>() };

/**
 * Stores a source's normalized events and their deliveries in one transaction. A PBX event already stored
 * (the PBX resent it) is answered with the first event's id and creates nothing.
 */
export async function acceptEvents(deps: AppDeps, source: Source, items: NormalizedEvent[]): Promise<Accepted[]> {
  // Resends are rare: the first try assumes nothing is stored, and the unique dedupe key refuses the commit
  // if something was (or if a resend raced the original into the same commit); then the stored is answered.
  // Requests that share events can each commit some of another's between its look and its commit: try again
  // as long as each look finds more of them stored, which ends at the latest when all of them are.
  let stored = NONE_STORED;
  for (;;) {
    try {
      return await acceptOnce(deps, source, items, stored);
    } catch (error) {
      if (!isDuplicateEvent(error)) throw error;
      const known = stored.ids.size;
      stored = await storedEvents(deps, source, items);
      if (stored.ids.size === known) throw error;
    }
  }
}

async function acceptOnce(
  deps: AppDeps,
  source: Source,
  items: NormalizedEvent[],
  stored: Awaited<ReturnType<typeof storedEvents>>,
): Promise<Accepted[]> {
  const { store, clock, partials } = deps;
  const nowMs = clock.now();
  const webhooks: Webhook[] = await store.webhooks.enabled();

  const batch = emptyBatch(deps, nowMs);
  const callStates = new Map<string, IngestBatch["calls"][number]>();
  const seen = new Map<string, Accepted>();
  const results: Accepted[] = [];
  for (const item of items) {
    const known = stored.ids.get(item.dedupe_key);
    const earlier = seen.get(item.dedupe_key);
    if (known !== undefined || earlier) {
      const first = earlier ?? { event_id: known!, deliveries: stored.counts.get(known!) ?? 0 };
      results.push({ event_id: first.event_id, deliveries: first.deliveries, duplicate: true });
      continue;
    }
    const event = canonicalEvent(item, { event_id: newId(ID_PREFIX.event, nowMs), source: source.kind, source_id: source.id });
    const drafts = await planDeliveries(event, webhooks, partials);
    addToBatch(batch, event, item.dedupe_key, drafts, nowMs);
    if (item.call_state) {
      // The latest event of a call in this batch sets what is remembered of it.
      callStates.set(item.uniqueid, { source_id: source.id, uniqueid: item.uniqueid, state: item.call_state, updated_at: isoAt(nowMs) });
    }
    const accepted = { event_id: event.event_id, deliveries: drafts.length, duplicate: false };
    seen.set(item.dedupe_key, accepted);
    results.push(accepted);
  }
  batch.calls.push(...callStates.values());
  if (batch.events.length) await commitAndEnqueue(deps, batch);
  for (const row of batch.events) deps.metrics.eventsIngested.inc({ source_kind: row.source, type: row.type });
  return results;
}

/** One event for one rule, whatever its filters say: `POST /api/webhooks/:id/test`. Returns the delivery id. */
export async function acceptTestEvent(deps: AppDeps, webhook: Webhook, event: CanonicalEvent): Promise<string> {
  const nowMs = deps.clock.now();
  const draft = await renderDraft(webhook, event, deps.partials);
  const batch = emptyBatch(deps, nowMs);
  addToBatch(batch, event, `test:${event.event_id}`, [draft], nowMs);
  await commitAndEnqueue(deps, batch);
  return batch.deliveries[0].id;
}

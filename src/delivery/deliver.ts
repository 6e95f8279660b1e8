import { isoAt, type Clock } from "../clock.js";
import type { RenderedRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import type { Logger } from "../log.js";
import type { Store } from "../store/index.js";
import type { DeliveryRow } from "../store/schema.js";
import { sendAttempt, type AttemptOutcome } from "./attempt.js";
import { nextStep, type NextStep, type RetrySchedule } from "./policy.js";
import type { Transport } from "./transport.js";

/** What sending a delivery takes, on either runtime: the Node dispatcher and the Workers queue consumer. */
export interface DeliverDeps {
  store: Store;
  transport: Transport;
  clock: Clock;
  log: Logger;
  schedule: RetrySchedule;
  random: () => number;
  /** Ends a request early when the gateway stops. */
  signal?: AbortSignal;
}

/** Extra lease beyond the attempt itself, so that a slow database write does not let a sweep steal the delivery. */
export const LEASE_MARGIN_MS = 30_000;

export interface Sendable {
  webhook: Webhook;
  request: RenderedRequest;
}

/** The rule and request of a claimed delivery; one that can no longer be sent is failed, and null returned. */
export async function sendableOf(row: DeliveryRow, deps: DeliverDeps): Promise<Sendable | null> {
  const webhook = await deps.store.webhooks.get(row.webhook_id);
  if (webhook && row.request) return { webhook, request: row.request };
  const reason = webhook ? "nothing to send: the request was never rendered" : "webhook deleted";
  await deps.store.deliveries.update(row.id, { status: "failed", last_error: reason, lease_until: null, updated_at: isoAt(deps.clock.now()) });
  return null;
}

/**
 * Sends attempt number `attempt` of a claimed delivery and records it with the delivery's next state.
 * A retry due within `holdMs` keeps the lease (the caller waits for it in memory); a later one is parked
 * as pending until `next_attempt_at`.
 */
export async function attemptDelivery(
  row: DeliveryRow,
  sendable: Sendable,
  attempt: number,
  deps: DeliverDeps,
  holdMs: number,
): Promise<{ outcome: AttemptOutcome; step: NextStep }> {
  const outcome = await sendAttempt({ id: row.id, request: sendable.request }, attempt, sendable.webhook, deps);
  const step = nextStep(outcome.verdict, attempt, row.max_attempts, outcome.retryAfterMs, deps.schedule, deps.random());
  await recordAttempt(row, outcome, step, sendable.webhook.timeout_ms, deps, holdMs);
  return { outcome, step };
}

/** Stores the attempt and the delivery's next state in one write. */
async function recordAttempt(
  row: DeliveryRow,
  outcome: AttemptOutcome,
  step: NextStep,
  timeoutMs: number,
  deps: DeliverDeps,
  holdMs: number,
): Promise<void> {
  const { store, clock, log } = deps;
  const now = clock.now();
  const common = {
    attempt_count: outcome.row.number,
    last_status_code: outcome.row.status_code,
    last_error: outcome.row.error,
    updated_at: isoAt(now),
  };
  const ids = { delivery_id: row.id, event_id: row.event_id, webhook_id: row.webhook_id };
  switch (step.kind) {
    case "delivered":
      await store.deliveries.record(outcome.row, { ...common, status: "delivered", lease_until: null, delivered_at: isoAt(now) });
      log.info("delivered", { ...ids, attempt: outcome.row.number, status_code: outcome.row.status_code });
      return;
    case "retry": {
      const next = now + step.delayMs;
      const held = step.delayMs <= holdMs;
      await store.deliveries.record(outcome.row, {
        ...common,
        status: held ? "delivering" : "pending",
        next_attempt_at: next,
        lease_until: held ? next + timeoutMs + LEASE_MARGIN_MS : null,
      });
      log.info("attempt failed, will retry", { ...ids, attempt: outcome.row.number, error: outcome.row.error, retry_in_ms: step.delayMs });
      return;
    }
    case "gone":
    case "failed": {
      const reason = step.kind === "gone" ? "410 Gone: webhook disabled" : `${outcome.row.error} (${step.reason})`;
      await store.deliveries.record(outcome.row, { ...common, status: "failed", lease_until: null, last_error: reason });
      if (step.kind === "gone") await store.webhooks.disable(row.webhook_id, isoAt(now));
      log.warn("delivery failed", { ...ids, attempt: outcome.row.number, error: reason });
    }
  }
}

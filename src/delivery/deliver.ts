import { isoAt, type Clock } from "../clock.js";
import type { RenderedRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import type { Logger } from "../log.js";
import { statusClass, type FailureReason, type GatewayMetrics } from "../metrics/gateway.js";
import type { Store } from "../store/index.js";
import { UNSENT_REASON } from "../store/webhooks.js";
import type { DeliveryRow } from "../store/schema.js";
import { sendAttempt, type AttemptOutcome } from "./attempt.js";
import { nextStep, type NextStep, type RetrySchedule } from "./policy.js";
import type { Transport } from "./transport.js";
import type { InFlight } from "../presets/send-hooks.js";

/** What sending a delivery takes, on either runtime: the Node dispatcher and the Workers queue consumer. */
export interface DeliverDeps {
  store: Store;
  transport: Transport;
  clock: Clock;
  log: Logger;
  metrics: GatewayMetrics;
  schedule: RetrySchedule;
  /** Ends a request early when the gateway stops. */
  signal?: AbortSignal;
  /** What attempts may share while it is in flight: the process's on Node, an invocation's on Workers (see InFlight). */
  inFlight?: InFlight;
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
  deps.metrics.deliveriesFailed.inc({ reason: "unsendable" });
  deps.log.warn("delivery failed", { delivery_id: row.id, event_id: row.event_id, webhook_id: row.webhook_id, error: reason });
  return null;
}

/**
 * Deliveries failed before they were sent because their rule was disabled (by hand or after a 410) or deleted:
 * counted and logged as failed like any other, so that the metrics agree with the delivery log.
 */
export function countUnsent(deps: Pick<DeliverDeps, "metrics" | "log">, webhookId: string, failed: number, reason: string): void {
  if (failed === 0) return;
  deps.metrics.deliveriesFailed.inc({ reason: "unsendable" }, failed);
  deps.log.warn("deliveries failed", { webhook_id: webhookId, deliveries: failed, error: reason });
}

/** What follows an attempt: the retry policy's next step, or another go, when the gateway stopped during it. */
export type Step = NextStep | { kind: "interrupted" };

/**
 * Sends attempt number `attempt` of a claimed delivery and records it with the delivery's next state.
 * A retry due within `holdMs` keeps the lease (the caller waits for it in memory); a later one is parked
 * as pending until `next_attempt_at`. `decided` hears the next step as soon as the reply is in, before the
 * write that records it.
 */
export async function attemptDelivery(
  row: DeliveryRow,
  sendable: Sendable,
  attempt: number,
  deps: DeliverDeps,
  holdMs: number,
  decided?: (step: Step) => void,
): Promise<{ outcome: AttemptOutcome; step: Step }> {
  const outcome = await sendAttempt({ id: row.id, request: sendable.request }, attempt, sendable.webhook, deps);
  const interrupted = deps.signal?.aborted === true && outcome.row.status_code === null;
  const step: Step = interrupted
    ? { kind: "interrupted" }
    : nextStep(outcome.verdict, attempt, row.max_attempts, outcome.retryAfterMs, deps.schedule, Math.random());
  decided?.(step);
  await recordAttempt(row, outcome, step, sendable.webhook.timeout_ms, deps, holdMs);
  countAttempt(row, outcome, step, deps);
  return { outcome, step };
}

/** The attempt in the metrics, once it is recorded: its outcome and duration, and how the delivery ended if it did. */
function countAttempt(row: DeliveryRow, outcome: AttemptOutcome, step: Step, deps: DeliverDeps): void {
  const { metrics } = deps;
  const status_class = statusClass(outcome.row.status_code);
  metrics.attempts.inc({ outcome: step.kind, status_class });
  metrics.attemptDuration.observe(outcome.row.duration_ms / 1000);
  if (step.kind === "delivered") {
    metrics.deliveriesDelivered.inc();
    metrics.eventToDelivered.observe(Math.max(0, deps.clock.now() - Date.parse(row.created_at)) / 1000);
  } else if (step.kind === "failed" || step.kind === "gone") {
    const reason: FailureReason = step.kind === "gone" ? "gone" : step.reason === "not retryable" ? "not_retryable" : "retries_exhausted";
    metrics.deliveriesFailed.inc({ reason });
  }
}

/** Stores the attempt and the delivery's next state in one write. */
async function recordAttempt(
  row: DeliveryRow,
  outcome: AttemptOutcome,
  step: Step,
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
      log.info("attempt failed, will retry", { ...ids, attempt: outcome.row.number, status_code: outcome.row.status_code, error: outcome.row.error, retry_in_ms: step.delayMs });
      return;
    }
    case "interrupted":
      // Not the receiver's doing: the attempt is on record but leaves the delivery its retries, due at the next start.
      await store.deliveries.record(outcome.row, { ...common, status: "pending", next_attempt_at: now, lease_until: null, max_attempts: row.max_attempts + 1 });
      log.info("attempt interrupted, will send again", { ...ids, attempt: outcome.row.number });
      return;
    case "gone":
    case "failed": {
      const reason = step.kind === "gone" ? "410 Gone: webhook disabled" : `${outcome.row.error} (${step.reason})`;
      await store.deliveries.record(outcome.row, { ...common, status: "failed", lease_until: null, last_error: reason });
      if (step.kind === "gone") {
        countUnsent(deps, row.webhook_id, await store.webhooks.disable(row.webhook_id, isoAt(now)), UNSENT_REASON.gone);
      }
      log.warn("delivery failed", { ...ids, attempt: outcome.row.number, status_code: outcome.row.status_code, error: reason });
    }
  }
}

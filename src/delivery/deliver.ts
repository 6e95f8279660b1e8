import { isoAt, type Clock } from "../clock.js";
import type { RenderedRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import type { Logger } from "../log.js";
import { statusClass, type FailureReason, type GatewayMetrics } from "../metrics/gateway.js";
import type { Ending } from "../store/deliveries.js";
import type { Store } from "../store/index.js";
import { UNSENT_REASON, type Unsent } from "../store/webhooks.js";
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

/**
 * The lease an attempt starting at `nowMs` needs: until it must have ended (the rule's timeout) and been
 * recorded. One that lapsed while the attempt is out would let a rule's change count the delivery failed, and
 * a retention pass delete it, before the attempt that may deliver it is recorded.
 */
export const attemptLeaseFrom = (nowMs: number, timeoutMs: number) => nowMs + timeoutMs + LEASE_MARGIN_MS;

interface Sendable {
  webhook: Webhook;
  request: RenderedRequest;
}

/**
 * The rule and request of a delivery held to be sent; one that can no longer be sent is failed (or was, by
 * its rule's change while it waited here), and null returned.
 */
export async function sendableOf(row: DeliveryRow, deps: DeliverDeps): Promise<Sendable | null> {
  const webhook = await deps.store.webhooks.get(row.webhook_id);
  // The rule changed since this delivery was read: disabling it (then perhaps enabling it again) may have failed it.
  const changedSince = webhook !== null && webhook.updated_at >= row.updated_at;
  if (webhook && (changedSince || !webhook.enabled)) {
    const now = await deps.store.deliveries.stillSending(row.id);
    if (now !== "sending") return countUnsendable(row, now, "webhook disabled", deps);
    // Not failed by the disable although made before it: an ingest that read the rule enabled committed it
    // just after. A retry by hand is made after the disable, and goes out.
    if (!webhook.enabled && changedSince) return failUnsendable(row, UNSENT_REASON.disabled, deps);
  }
  if (webhook && row.request) return { webhook, request: row.request };
  return failUnsendable(row, webhook ? "nothing to send: the request was never rendered" : UNSENT_REASON.deleted, deps);
}

/** Fails a held delivery that cannot be sent, and counts it unless another hand settled it meanwhile. */
async function failUnsendable(row: DeliveryRow, reason: string, deps: DeliverDeps): Promise<null> {
  const ending = await deps.store.deliveries.end(row.id, { status: "failed", last_error: reason, lease_until: null, updated_at: isoAt(deps.clock.now()) });
  return countUnsendable(row, ending, reason, deps);
}

/**
 * A held delivery that will not be sent, counted failed here unless another hand that settled it did: it was
 * failed by this holder (`taken`), or by its rule's change, which left the count to its holder (`unsent`).
 */
export function countUnsendable(row: DeliveryRow, ending: Ending, reason: string, deps: Pick<DeliverDeps, "metrics" | "log">): null {
  if (ending !== "settled") {
    deps.metrics.deliveriesFailed.inc({ reason: "unsendable" });
    deps.log.warn("delivery failed", { delivery_id: row.id, event_id: row.event_id, webhook_id: row.webhook_id, error: reason });
  }
  return null;
}

/**
 * Deliveries failed before they were sent because their rule was disabled (by hand or after a 410) or deleted:
 * counted and logged as failed like any other, so that the metrics agree with the delivery log. Those held
 * under a lease then are counted by their holder, once it knows how they ended (an attempt out may deliver one).
 */
export function countUnsent(deps: Pick<DeliverDeps, "metrics" | "log">, webhookId: string, { failed, held }: Unsent, reason: string): void {
  if (failed === 0) return;
  if (failed > held) deps.metrics.deliveriesFailed.inc({ reason: "unsendable" }, failed - held);
  deps.log.warn("deliveries failed", { webhook_id: webhookId, deliveries: failed, ...(held ? { being_sent: held } : {}), error: reason });
}

/** What follows an attempt: the retry policy's next step, or another go, when the gateway stopped during it. */
export type Step = NextStep | { kind: "interrupted" };

/**
 * Sends attempt number `attempt` of a claimed delivery and records it with the delivery's next state.
 * A retry due within `holdMs` keeps the lease (the caller waits for it in memory); a later one is parked
 * as pending until `next_attempt_at`. `decided` hears the next step as soon as the reply is in, before the
 * write that records it. `leaseUntil` is the lease the record kept (a retry held), else null.
 */
export async function attemptDelivery(
  row: DeliveryRow,
  sendable: Sendable,
  attempt: number,
  deps: DeliverDeps,
  holdMs: number,
  decided?: (step: Step) => void,
): Promise<{ outcome: AttemptOutcome; step: Step; ending: Ending; leaseUntil: number | null }> {
  const outcome = await sendAttempt({ id: row.id, request: sendable.request }, attempt, sendable.webhook, deps);
  const interrupted = deps.signal?.aborted === true && outcome.row.status_code === null;
  const step: Step = interrupted
    ? { kind: "interrupted" }
    : nextStep(outcome.verdict, attempt - row.budget_start, row.max_attempts - row.budget_start, outcome.retryAfterMs, deps.schedule, Math.random());
  decided?.(step);
  const { ending, leaseUntil } = await recordAttempt(row, outcome, step, sendable.webhook.timeout_ms, deps, holdMs);
  countAttempt(row, outcome, step, ending, deps);
  return { outcome, step, ending, leaseUntil };
}

/**
 * The attempt in the metrics, once it is recorded: its outcome and duration, and how the delivery ended if it
 * did. A delivery settled meanwhile was counted as it ended then; one its rule's change failed meanwhile is
 * counted here, as the delivery log shows it: delivered if this attempt delivered it, else failed unsent.
 */
function countAttempt(row: DeliveryRow, outcome: AttemptOutcome, step: Step, ending: Ending, deps: DeliverDeps): void {
  const { metrics } = deps;
  const status_class = statusClass(outcome.row.status_code);
  metrics.attempts.inc({ outcome: step.kind, status_class });
  metrics.attemptDuration.observe(outcome.row.duration_ms / 1000);
  if (ending === "unsent") {
    metrics.deliveriesFailed.inc({ reason: "unsendable" });
  } else if (ending === "settled") {
    return;
  } else if (step.kind === "delivered") {
    metrics.deliveriesDelivered.inc();
    metrics.eventToDelivered.observe(Math.max(0, deps.clock.now() - Date.parse(row.created_at)) / 1000);
  } else if (step.kind === "failed" || step.kind === "gone") {
    const reason: FailureReason = step.kind === "gone" ? "gone" : step.reason === "not retryable" ? "not_retryable" : "retries_exhausted";
    metrics.deliveriesFailed.inc({ reason });
  }
}

/** Stores the attempt and the delivery's next state in one write; how the delivery was found, and the lease it keeps. */
async function recordAttempt(
  row: DeliveryRow,
  outcome: AttemptOutcome,
  step: Step,
  timeoutMs: number,
  deps: DeliverDeps,
  holdMs: number,
): Promise<{ ending: Ending; leaseUntil: number | null }> {
  const { store, clock, log } = deps;
  const now = clock.now();
  const common = {
    attempt_count: outcome.row.number,
    last_status_code: outcome.row.status_code,
    last_error: outcome.row.error,
    updated_at: isoAt(now),
  };
  const ids = { delivery_id: row.id, event_id: row.event_id, webhook_id: row.webhook_id, attempt: outcome.row.number };
  if (step.kind === "delivered") {
    const ending = await store.deliveries.record(outcome.row, { ...common, status: "delivered", lease_until: null, delivered_at: isoAt(now) });
    log.info("delivered", { ...ids, status_code: outcome.row.status_code });
    return { ending, leaseUntil: null };
  }
  const next = nextState(row, outcome, step, now, timeoutMs, holdMs);
  const ending = await store.deliveries.record(outcome.row, { ...common, ...next });
  if (step.kind === "gone") await disableGone(row, outcome, now, deps);
  if (ending !== "taken") {
    log.info("attempt recorded; the delivery had ended meanwhile", { ...ids, status_code: outcome.row.status_code, error: outcome.row.error });
  } else if (step.kind === "retry") {
    log.info("attempt failed, will retry", { ...ids, status_code: outcome.row.status_code, error: outcome.row.error, retry_in_ms: step.delayMs });
  } else if (step.kind === "interrupted") {
    log.info("attempt interrupted, will send again", ids);
  } else {
    log.warn("delivery failed", { ...ids, status_code: outcome.row.status_code, error: failureReason(outcome, step) });
  }
  return { ending, leaseUntil: next.lease_until ?? null };
}

/**
 * After a 410 Gone: the rule is disabled, noting this delivery and the status as why, and that is logged on its
 * own line (once: a rule disabled already keeps its first reason); the deliveries that fails are counted.
 */
async function disableGone(row: DeliveryRow, outcome: AttemptOutcome, now: number, deps: DeliverDeps): Promise<void> {
  const why = { at: isoAt(now), reason: "gone", delivery_id: row.id, status_code: outcome.row.status_code } as const;
  const { disabledNow, ...unsent } = await deps.store.webhooks.disable(row.webhook_id, why);
  if (disabledNow) {
    deps.log.warn("webhook disabled", { webhook_id: row.webhook_id, reason: "gone", delivery_id: row.id, event_id: row.event_id, status_code: why.status_code });
  }
  countUnsent(deps, row.webhook_id, unsent, UNSENT_REASON.gone);
}

/** Why a delivery failed at its attempt, as its `last_error` says. */
const failureReason = (outcome: AttemptOutcome, step: Extract<Step, { kind: "failed" | "gone" }>) =>
  step.kind === "gone" ? "410 Gone: webhook disabled" : `${outcome.row.error} (${step.reason})`;

/** The delivery's state after an attempt that did not deliver it. */
function nextState(
  row: DeliveryRow,
  outcome: AttemptOutcome,
  step: Exclude<Step, { kind: "delivered" }>,
  now: number,
  timeoutMs: number,
  holdMs: number,
): Partial<DeliveryRow> {
  switch (step.kind) {
    case "retry": {
      const next = now + step.delayMs;
      const held = step.delayMs <= holdMs;
      return { status: held ? "delivering" : "pending", next_attempt_at: next, lease_until: held ? attemptLeaseFrom(next, timeoutMs) : null };
    }
    case "interrupted":
      // Not the receiver's doing: the attempt is on record but leaves the delivery its retries, due at the next start.
      return { status: "pending", next_attempt_at: now, lease_until: null, max_attempts: row.max_attempts + 1 };
    case "gone":
    case "failed":
      return { status: "failed", lease_until: null, last_error: failureReason(outcome, step) };
  }
}

import type { Message, MessageBatch } from "@cloudflare/workers-types";
import { isoAt } from "../clock.js";
import { attemptDelivery, attemptLeaseFrom, sendableOf, type DeliverDeps } from "../delivery/deliver.js";
import type { DeliveryQueue } from "../delivery/queue.js";
import { errorText } from "../domain/errors.js";
import { MAX_TIMEOUT_MS } from "../domain/webhook.js";
import { deliveryMessageSchema, type DeliveryMessage } from "./worker-env.js";

/** Deliveries the cron sweep re-queues per run. */
const SWEEP_BATCH = 1_000;
/** The cron sweep leaves deliveries this recently due to the message already on its way to them. */
const SWEEP_GRACE_MS = 60_000;

/**
 * Deliveries an invocation sends at once. Workers keep at most 6 connections open per invocation and hold
 * back the rest, while each attempt's timeout is already running: a seventh could time out waiting.
 */
export const SENDING_AT_ONCE = 6;

/** The start of a message body as text, for the log line of one that names no delivery. */
function bodyExcerpt(body: unknown): string {
  try {
    return String(JSON.stringify(body)).slice(0, 200);
  } catch {
    return typeof body; // a BigInt, say
  }
}

/** Seconds before the queue redelivers a message the consumer failed on: 5 s doubling, at most 5 minutes. */
function consumerBackoffSeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

/**
 * The Queues side of delivery. A message only says "look at this delivery": D1 holds its state, so a
 * duplicate, early or lost message costs a look-up, never a double send or a lost delivery.
 */
export function queueConsumer(deps: DeliverDeps, queue: DeliveryQueue) {
  const { store, clock, log, metrics } = deps;

  /** One attempt if the delivery is due; returns when it next needs looking at, or null when it is settled. */
  async function attemptIfDue(id: string, invocation: DeliverDeps): Promise<number | null> {
    const now = clock.now();
    // Held for the longest attempt a rule allows, whatever this one's rule allows now (it may be raised meanwhile).
    const [row] = await store.deliveries.claim([id], now, attemptLeaseFrom(now, MAX_TIMEOUT_MS));
    if (!row) return wakeTimeOf(id);
    const sendable = await sendableOf(row, deps);
    if (!sendable) return null;
    const { step, ending } = await attemptDelivery(row, sendable, row.attempt_count + 1, invocation, 0);
    return ending === "taken" && step.kind === "retry" ? clock.now() + step.delayMs : null;
  }

  /** Not claimable now: not due yet, held by another consumer (look again when its lease ends), or settled. */
  async function wakeTimeOf(id: string): Promise<number | null> {
    const row = await store.deliveries.get(id);
    if (row?.status === "pending") return row.next_attempt_at;
    if (row?.status === "delivering" && row.lease_until !== null) return row.lease_until;
    return null;
  }

  /**
   * Fails the delivery of a dead letter unless another consumer (a cron sweep's message) is sending it now: that
   * one is left to its sender and looked at again when the lease ends, by a message that, if its sender failed
   * for good, fails in the consumer in turn, and dead-letters once it has a lapsed lease to find.
   */
  async function failDeadLettered(id: string, consumerFailures: number): Promise<void> {
    const reason = `the queue consumer failed on this delivery ${consumerFailures} times; see the logs, then retry it`;
    if (await store.deliveries.abandonUnheld(id, reason, clock.now())) {
      metrics.deliveriesFailed.inc({ reason: "dead_letter" });
      log.error("delivery dead-lettered", { delivery_id: id });
      return;
    }
    const wakeAt = await wakeTimeOf(id);
    if (wakeAt === null) return; // settled already
    await queue.enqueue([{ id, dueAt: wakeAt }]);
    log.warn("dead letter deferred: another consumer is sending the delivery", { delivery_id: id, look_again_at: isoAt(wakeAt) });
  }

  /**
   * The delivery a message is for, or null for a body that names none: that message is acknowledged and logged,
   * as retrying it can only fail again, and throwing would have the queue retry the whole batch with it.
   */
  function deliveryIdOf(message: Message<DeliveryMessage>): string | null {
    const parsed = deliveryMessageSchema.safeParse(message.body);
    if (parsed.success) return parsed.data.delivery_id;
    log.error("queue message dropped: it names no delivery", { message_id: message.id, body: bodyExcerpt(message.body) });
    message.ack();
    return null;
  }

  async function handle(message: Message<DeliveryMessage>, invocation: DeliverDeps): Promise<void> {
    const id = deliveryIdOf(message);
    if (id === null) return;
    try {
      const wakeAt = await attemptIfDue(id, invocation);
      // The next message is sent before this one is acknowledged: a crash in between repeats, never loses.
      if (wakeAt !== null) await queue.enqueue([{ id, dueAt: wakeAt }]);
      message.ack();
    } catch (error) {
      log.error("queue consumer failed", { delivery_id: id, queue_attempts: message.attempts, error: errorText(error) });
      message.retry({ delaySeconds: consumerBackoffSeconds(message.attempts) });
    }
  }

  return {
    async consume(batch: MessageBatch<DeliveryMessage>): Promise<void> {
      // This batch's attempts may share a token fetch, never another invocation's (see InFlight).
      const invocation = { ...deps, inFlight: new Map() };
      const waiting = [...batch.messages];
      const sender = async () => {
        for (let message = waiting.shift(); message; message = waiting.shift()) await handle(message, invocation);
      };
      await Promise.all(Array.from({ length: Math.min(SENDING_AT_ONCE, waiting.length) }, sender));
    },

    /** Messages the queue gave up on: their deliveries fail visibly, to be retried from the API once fixed. */
    async deadLetters(batch: MessageBatch<DeliveryMessage>): Promise<void> {
      for (const message of batch.messages) {
        const id = deliveryIdOf(message);
        if (id === null) continue;
        await failDeadLettered(id, message.attempts);
        message.ack();
      }
    },

    /** The cron trigger: re-queues deliveries whose message was lost (overdue by more than the grace). */
    async sweep(): Promise<number> {
      const now = clock.now();
      const ids = await store.deliveries.dueIds(now - SWEEP_GRACE_MS, SWEEP_BATCH);
      if (ids.length) await queue.enqueue(ids.map((id) => ({ id, dueAt: now })));
      return ids.length;
    },
  };
}

export type QueueConsumer = ReturnType<typeof queueConsumer>;

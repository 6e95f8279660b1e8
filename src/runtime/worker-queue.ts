import type { Queue } from "@cloudflare/workers-types";
import type { Clock } from "../clock.js";
import type { DeliveryQueue, QueuedDelivery } from "../delivery/queue.js";
import type { DeliveryMessage } from "./worker-env.js";

/** Cloudflare Queues' limits: the longest `delaySeconds`, and messages per `sendBatch`. */
const MAX_DELAY_SECONDS = 43_200;
const MAX_BATCH_MESSAGES = 100;

/** Whole seconds until `dueAt`, rounded up so a message never arrives early; longer waits are re-deferred on arrival. */
function delaySecondsUntil(dueAt: number, nowMs: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((dueAt - nowMs) / 1000)));
}

/** The producer side: each delivery becomes a message delayed until it is due. */
export function cloudflareQueue(queue: Queue<DeliveryMessage>, clock: Clock): DeliveryQueue {
  return {
    async enqueue(deliveries: QueuedDelivery[]) {
      const now = clock.now();
      for (let i = 0; i < deliveries.length; i += MAX_BATCH_MESSAGES) {
        const part = deliveries.slice(i, i + MAX_BATCH_MESSAGES);
        await queue.sendBatch(part.map((d) => ({ body: { delivery_id: d.id }, delaySeconds: delaySecondsUntil(d.dueAt, now) })));
      }
    },
  };
}

import type { DeliveryRow } from "../store/schema.js";

/** A committed delivery and when it is due (epoch ms): now, or later for a rule's `delay_seconds`. */
export interface QueuedDelivery {
  id: string;
  dueAt: number;
  /** The delivery itself, when it was committed already leased to this queue (see `leaseNew`). */
  leased?: DeliveryRow;
}

/** Where committed deliveries are handed for sending: the in-process dispatcher on Node, a Queue on Workers. */
export interface DeliveryQueue {
  enqueue(deliveries: QueuedDelivery[]): void | Promise<void>;
  /**
   * A queue in this process, about to send what is due at once, can have it committed already leased to it
   * (until the time returned), which saves claiming it in a write of its own; null when it cannot take more.
   */
  leaseNew?(nowMs: number): number | null;
}

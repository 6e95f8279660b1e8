/** A committed delivery and when it is due (epoch ms): now, or later for a rule's `delay_seconds`. */
export interface QueuedDelivery {
  id: string;
  dueAt: number;
}

/** Where committed deliveries are handed for sending: the in-process dispatcher on Node, a Queue on Workers. */
export interface DeliveryQueue {
  enqueue(deliveries: QueuedDelivery[]): void | Promise<void>;
}

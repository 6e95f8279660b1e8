/** Where committed deliveries are handed for sending: the in-process dispatcher on Node, a Queue on Workers. */
export interface DeliveryQueue {
  enqueue(ids: string[]): void | Promise<void>;
}

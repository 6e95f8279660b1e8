import { z } from "zod";

/** pending -> delivering -> delivered | failed (retries exhausted or not retryable: the dead-letter list). */
export const DELIVERY_STATUSES = ["pending", "delivering", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** A delivery in these states is not finished: it is still to be sent, or being sent. */
export const UNFINISHED_STATUSES: DeliveryStatus[] = ["pending", "delivering"];

/** Deliveries waiting in the outbox, counted by the store (metrics read it at scrape time). */
export interface QueueDepth {
  pending: number;
  /** Pending deliveries whose time has come: the backlog. */
  due: number;
  delivering: number;
}

/** `GET /api/deliveries`'s filters. */
export const deliveryFilterSchema = z.object({
  webhook_id: z.string().max(64).optional(),
  event_id: z.string().max(64).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
}).strict();
export type DeliveryFilter = z.output<typeof deliveryFilterSchema>;

/** The exact request a delivery sends, rendered once when the delivery is created. */
export interface RenderedRequest {
  method: "GET" | "POST" | "PUT" | "PATCH";
  url: string;
  headers: Record<string, string>;
  /** The exact bytes sent, as text; null for GET. */
  body: string | null;
  /** Facts a preset needs when sending (e.g. the phone to look the caller up by); never sent as such. */
  meta?: Record<string, string>;
  /** The mark of the secret placeholders this request was rendered with (see presets/secrets.ts). */
  secrets_mark?: string;
  /** How the body's values were escaped when rendered, so a secret filled in later is escaped alike. */
  secrets_escape?: "html" | "json" | "url" | "none";
  /**
   * Present when the request is an SQS message: `url` is the queue, `body` the message body, `headers` empty.
   * The credentials, the attributes and the deduplication id are added per attempt.
   */
  sqs?: SqsMessage;
}

export interface SqsMessage {
  /** MessageGroupId, rendered with the body; null when the message is sent without one (a standard queue). */
  message_group_id: string | null;
}

import { z } from "zod";

// AWS SQS as a webhook's transport (Wildix's second transmission type): what a rule's `sqs` settings are,
// and what can be read from a queue URL. Pure: the signing and sending live in src/delivery/sqs.ts.

/** A FIFO queue's messages are grouped by call unless the rule says otherwise, so one call's events stay in order. */
export const DEFAULT_MESSAGE_GROUP_ID = "{{uniqueid}}";

/** SQS's limit and alphabet for MessageGroupId and MessageDeduplicationId. */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/** Hosts whose name carries the region: sqs.<region>.amazonaws.com(.cn), VPC endpoints, the legacy <region>.queue.amazonaws.com. */
const AWS_QUEUE_HOSTS = [
  /(?:^|\.)sqs\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/,
  /^([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?$/,
];

export const sqsSettingsSchema = z
  .object({
    /** Read from an AWS queue URL when absent; required for any other host. */
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, "must be an AWS region such as eu-west-1")
      .nullable()
      .default(null),
    access_key_id: z.string().regex(/^[A-Za-z0-9]{1,128}$/, "must be an AWS access key id such as AKIAIOSFODNN7EXAMPLE"),
    secret_access_key: z.string().min(1).max(256).regex(/^\S+$/, "must not contain spaces"),
    /** Handlebars over the event, as the URL; null: `{{uniqueid}}` on a FIFO queue, none on a standard one. */
    message_group_id: z.string().min(1).max(1_024).nullable().default(null),
  })
  .strict();

export type SqsSettings = z.output<typeof sqsSettingsSchema>;

/** The queue's name: the last segment of its URL's path. */
export function queueNameOf(queueUrl: string): string | null {
  try {
    const segments = new URL(queueUrl).pathname.split("/").filter(Boolean);
    const name = segments.at(-1) ?? "";
    return QUEUE_NAME.test(name) ? name : null;
  } catch {
    return null;
  }
}

/** FIFO queues are named `*.fifo` (AWS requires it). */
export function isFifoQueue(queueUrl: string): boolean {
  return queueNameOf(queueUrl)?.endsWith(".fifo") ?? false;
}

/** The region an AWS queue URL names in its host, or null for any other host. */
export function regionOfQueueUrl(queueUrl: string): string | null {
  let host: string;
  try {
    host = new URL(queueUrl).hostname.toLowerCase();
  } catch {
    return null;
  }
  for (const pattern of AWS_QUEUE_HOSTS) {
    const match = pattern.exec(host);
    if (match) return match[1];
  }
  return null;
}

/** The region to sign for: the rule's, else the one its queue URL names. */
export function sqsRegion(settings: Pick<SqsSettings, "region">, queueUrl: string): string | null {
  return settings.region ?? regionOfQueueUrl(queueUrl);
}

/** The group template a message is sent with: the rule's, the call id on a FIFO queue, or none. */
export function messageGroupTemplate(settings: Pick<SqsSettings, "message_group_id">, queueUrl: string): string | null {
  return settings.message_group_id ?? (isFifoQueue(queueUrl) ? DEFAULT_MESSAGE_GROUP_ID : null);
}

import { AwsV4Signer } from "aws4fetch";
import type { RenderedRequest } from "../domain/delivery.js";
import { jsonObjectOf } from "../domain/json-object.js";
import { isFifoQueue, sqsRegion, type SqsSettings } from "../domain/sqs.js";
import { PrepareError, type Judgement } from "../presets/send-hooks.js";
import { USER_AGENT } from "../render/request.js";
import { sqsVerdictFor } from "./policy.js";
import { SIGNATURE_HEADER } from "./signing.js";
import type { Transport, TransportReply } from "./transport.js";

// The SQS transport: a rendered message becomes an SQS SendMessage call (AWS JSON 1.0 protocol), signed with
// AWS Signature V4 and sent through the runtime's Transport like any HTTP delivery, so that the SSRF guard,
// pooling, timeouts and the attempt log apply unchanged.

/** The attribute that carries the signature: Wildix's name for it on SQS. */
const SIGNATURE_ATTRIBUTE = "X-SIGNATURE";

const SIGNATURE_HEADERS: ReadonlySet<string> = new Set(Object.values(SIGNATURE_HEADER));

/** SendMessage's parameters, as the JSON protocol takes them. */
interface SendMessageInput {
  QueueUrl: string;
  MessageBody: string;
  MessageAttributes?: Record<string, { DataType: "String"; StringValue: string }>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/**
 * An attempt's message attributes: what an HTTP attempt carries as headers (`webhook-id`, and for standard
 * signing `webhook-timestamp`), with the signature, whatever the signing, under `X-SIGNATURE`.
 */
export function messageAttributes(signatureHeaders: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(signatureHeaders).map(([name, value]) => [SIGNATURE_HEADERS.has(name) ? SIGNATURE_ATTRIBUTE : name, value]),
  );
}

/** The SendMessage call of a rendered message; a FIFO queue deduplicates on the delivery's idempotency key. */
export function sendMessageInput(message: RenderedRequest, attributes: Record<string, string>, idempotencyKey: string): SendMessageInput {
  const input: SendMessageInput = { QueueUrl: message.url, MessageBody: message.body ?? "" };
  if (Object.keys(attributes).length) {
    input.MessageAttributes = Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
    );
  }
  if (message.sqs?.message_group_id) input.MessageGroupId = message.sqs.message_group_id;
  if (isFifoQueue(message.url)) input.MessageDeduplicationId = idempotencyKey;
  return input;
}

/** SigV4's timestamp form: 20261120T120000Z. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/** Sends the message, signed with the rule's credentials at `nowMs`; the reply is SQS's answer as is. */
export async function sendSqsMessage(
  transport: Transport,
  input: SendMessageInput,
  settings: SqsSettings | null,
  nowMs: number,
  signal: AbortSignal,
): Promise<TransportReply> {
  if (!settings) throw new PrepareError("the rule is no longer an SQS rule: this message cannot be sent", false);
  const region = sqsRegion(settings, input.QueueUrl);
  if (!region) throw new PrepareError("sqs.region: the rule names no region and its queue URL does not show one", false);
  const signer = new AwsV4Signer({
    method: "POST",
    // The JSON protocol posts to the service endpoint; the queue is named in the body.
    url: new URL("/", input.QueueUrl).href,
    headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage", "user-agent": USER_AGENT },
    body: JSON.stringify(input),
    accessKeyId: settings.access_key_id,
    secretAccessKey: settings.secret_access_key,
    service: "sqs",
    region,
    datetime: amzDate(nowMs),
  });
  const signed = await signer.sign();
  return transport.fetch(signed.url.href, {
    method: signed.method,
    headers: Object.fromEntries(signed.headers),
    body: signed.body as string,
    signal,
  });
}

/** The error code (without namespace) and message of an SQS reply: the Query code header, the JSON `__type`, or an XML `<Code>`. */
function sqsError(headers: Headers, body: string): { code: string | null; message: string | null } {
  const json = jsonObjectOf(body);
  const xml = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)?.[1] ?? null;
  const queryCode = headers.get("x-amzn-query-error")?.split(";")[0] || null;
  const code = queryCode ?? (typeof json?.__type === "string" ? json.__type : null) ?? xml("Code");
  const text = json?.message ?? json?.Message;
  return { code: code && code.replace(/^.*#/, ""), message: typeof text === "string" ? text : xml("Message") };
}

/**
 * How an SQS reply ends the attempt. A 2xx counts only with a MessageId, so that a queue URL pointing at some
 * other web server is not taken for a delivery.
 */
export function judgeSqsReply(status: number, headers: Headers, body: string): Judgement {
  const { code, message } = sqsError(headers, body);
  const verdict = sqsVerdictFor(status, code);
  if (verdict === "delivered") {
    const id = jsonObjectOf(body)?.MessageId ?? /<MessageId>/.test(body);
    return id ? { verdict } : { verdict: "fail", error: `HTTP ${status} without a MessageId: not an SQS SendMessage reply` };
  }
  const what = [code, message].filter(Boolean).join(": ");
  return { verdict, error: what ? `SQS ${what} (HTTP ${status})` : `HTTP ${status}` };
}

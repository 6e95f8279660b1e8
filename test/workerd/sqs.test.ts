import { createHmac } from "node:crypto";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "../support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway, type TestGateway } from "./gateway.js";

// The SQS transport on the Workers runtime: aws4fetch signs inside workerd and the Worker's fetch reaches
// local-aws-sqs (started by the suite's globalSetup on 127.0.0.1); the AWS SDK reads the messages back.

const REGION = "eu-west-1";
const CREDENTIALS = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const SETTINGS = { region: REGION, access_key_id: CREDENTIALS.accessKeyId, secret_access_key: CREDENTIALS.secretAccessKey };

let gw: TestGateway;
let client: SQSClient;
let source: { id: string; secret: string };

beforeEach(async () => {
  gw = await startGateway();
  client = new SQSClient({ region: REGION, endpoint: env.SQS_ENDPOINT, credentials: CREDENTIALS });
  source = await createSource(gw);
});
afterEach(async () => {
  client.destroy();
  await gw.stop();
});

async function queue(name: string): Promise<string> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: name.endsWith(".fifo") ? { FifoQueue: "true" } : undefined }));
  return QueueUrl!;
}

async function receive(queueUrl: string) {
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"], AttributeNames: ["All"], WaitTimeSeconds: 0 }),
  );
  return Messages;
}

describe("SQS transport in workerd", () => {
  it("sends the previewed body to a standard and a FIFO queue", async () => {
    const suffix = crypto.randomUUID().slice(0, 8);
    const standard = await queue(`workerd-${suffix}`);
    const fifo = await queue(`workerd-${suffix}.fifo`);
    const plain = await createWebhook(gw, { name: "standard", transport: "sqs", url: standard, sqs: SETTINGS, signing: "hmac-hex", secret: "wildix-style-shared-secret", params: { phone: "src", call: "uniqueid" } });
    await createWebhook(gw, { name: "fifo", transport: "sqs", url: fifo, sqs: SETTINGS });
    const event = callEvent({ uniqueid: "workerd.1" });
    const { body: preview } = await gw.api("POST", `/api/webhooks/${plain.id}/preview`, { event });

    const answer = await ingest(gw, source, event);
    expect(answer.status).toBe(202);
    await gw.settle();
    const deliveries = await deliveriesOf(gw, answer.body.event_id);
    expect(deliveries.map((d) => [d.status, d.attempts.length])).toEqual([["delivered", 1], ["delivered", 1]]);

    const [message] = await receive(standard);
    expect(message.Body).toBe(preview.body);
    expect(message.MessageAttributes?.["X-SIGNATURE"]?.StringValue).toBe(createHmac("sha256", "wildix-style-shared-secret").update(message.Body!).digest("hex"));
    const [ordered] = await receive(fifo);
    expect(ordered.Attributes).toMatchObject({ MessageGroupId: "workerd.1", MessageDeduplicationId: ordered.MessageAttributes?.["webhook-id"]?.StringValue });
    expect(JSON.parse(ordered.Body!)).toMatchObject({ uniqueid: "workerd.1", type: "call.end" });
  });
});

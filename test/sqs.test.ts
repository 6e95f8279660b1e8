import { createHmac } from "node:crypto";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import type { Message } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isFifoQueue, queueNameOf, regionOfQueueUrl } from "../src/domain/sqs.js";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, startGateway, type TestGateway } from "./support/gateway.js";
import { ingestAndSettle } from "./support/ingest-and-settle.js";
import { expectedSignature, LocalSqs, SQS_CREDENTIALS, SQS_REGION, SqsProxy, THROTTLED, UNKNOWN_KEY } from "./support/sqs.js";

// The SQS transport end to end: the real gateway sends to local-aws-sqs (through a loopback proxy that can
// refuse as SQS does), and the AWS SDK reads the messages back.

let gw: TestGateway;
let sqs: LocalSqs;
let proxy: SqsProxy;
let source: { id: string; secret: string };

beforeEach(async () => {
  gw = await startGateway();
  sqs = await new LocalSqs().start();
  proxy = await new SqsProxy(sqs.url).start();
  source = await createSource(gw);
});
afterEach(async () => {
  await gw.stop();
  await proxy.stop();
  await sqs.stop();
});

const SETTINGS = { region: SQS_REGION, access_key_id: SQS_CREDENTIALS.accessKeyId, secret_access_key: SQS_CREDENTIALS.secretAccessKey };

/** A queue in local SQS, and its URL as the gateway is given it: through the proxy. */
async function queue(name: string): Promise<string> {
  const url = new URL(await sqs.createQueue(name));
  return `${proxy.url}${url.pathname}`;
}

function sqsRule(queueUrl: string, rule: Record<string, unknown> = {}) {
  return createWebhook(gw, { transport: "sqs", url: queueUrl, sqs: SETTINGS, ...rule });
}

const deliver = (event: Record<string, unknown>) => ingestAndSettle(gw, source, event);

const attribute = (message: Message, name: string) => message.MessageAttributes?.[name]?.StringValue;
const bodiesOf = (messages: Message[]) => messages.map((m) => m.Body);

describe("SQS transport", () => {
  it("sends the previewed body to a standard queue, signed with X-SIGNATURE and SigV4", async () => {
    const queueUrl = await queue("calls");
    const rule = await sqsRule(queueUrl, { signing: "hmac-hex", secret: "wildix-style-shared-secret", params: { phone: "src", agent: "agent.name" } });
    expect(rule).toMatchObject({ transport: "sqs", url: queueUrl, method: "POST_JSON", sqs: { region: SQS_REGION, access_key_id: SETTINGS.access_key_id, message_group_id: null } });
    const event = callEvent({ uniqueid: "std.1" });
    const { body: preview } = await gw.api("POST", `/api/webhooks/${rule.id}/preview`, { event });

    const [delivery] = await deliveriesOf(gw, await deliver(event));
    expect(delivery.status).toBe("delivered");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].status_code).toBe(200);
    expect(JSON.parse(delivery.attempts[0].response_body)).toMatchObject({ MessageId: expect.any(String), MD5OfMessageBody: expect.any(String) });

    const [message, ...more] = await sqs.receive(queueUrl);
    expect(more).toEqual([]);
    expect(message.Body).toBe(preview.body);
    expect(JSON.parse(message.Body!)).toEqual({ phone: "+15551234567", agent: "Alex Agent" });
    expect(delivery.request).toMatchObject({ url: queueUrl, body: message.Body, headers: {}, sqs: { message_group_id: null } });
    // Wildix's convention: the signature of the body in the X-SIGNATURE attribute.
    expect(attribute(message, "X-SIGNATURE")).toBe(createHmac("sha256", "wildix-style-shared-secret").update(message.Body!).digest("hex"));
    expect(attribute(message, "webhook-id")).toBe(delivery.id);
    expect(message.Attributes?.MessageGroupId).toBeUndefined();

    // One SendMessage call in AWS's JSON protocol, signed as AWS's own signer signs it.
    const [request] = proxy.requests;
    expect(request).toMatchObject({ method: "POST", path: "/" });
    expect(request.headers).toMatchObject({ "x-amz-target": "AmazonSQS.SendMessage", "content-type": "application/x-amz-json-1.0" });
    expect(JSON.parse(request.body)).toMatchObject({ QueueUrl: queueUrl, MessageBody: message.Body });
    const authorization = String(request.headers.authorization);
    expect(authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${SETTINGS.access_key_id}/20261120/${SQS_REGION}/sqs/aws4_request, SignedHeaders=`));
    expect(authorization).toContain(`Signature=${await expectedSignature(request, new URL(proxy.url).host)}`);
  });

  it("groups a FIFO queue's messages by call and deduplicates them on the idempotency key", async () => {
    const queueUrl = await queue("calls.fifo");
    const rule = await sqsRule(queueUrl, { events: ["call.start", "call.end"] });
    await deliver(callEvent({ uniqueid: "fifo.1", type: "call.start" }));
    await deliver(callEvent({ uniqueid: "fifo.1", type: "call.end" }));
    await deliver(callEvent({ uniqueid: "fifo.2", type: "call.end" }));

    const { body: deliveries } = await gw.api("GET", `/api/deliveries?webhook_id=${rule.id}`);
    expect(deliveries.data.map((d: { status: string }) => d.status)).toEqual(["delivered", "delivered", "delivered"]);
    const messages = await sqs.receive(queueUrl);
    // FIFO hands out one group at a time, in order: the first call's start and end.
    const firstCall = messages.filter((m) => m.Attributes?.MessageGroupId === "fifo.1");
    expect(firstCall.map((m) => JSON.parse(m.Body!).type)).toEqual(["call.start", "call.end"]);
    for (const message of firstCall) {
      const id = attribute(message, "webhook-id")!;
      expect(message.Attributes?.MessageDeduplicationId).toBe(id);
      expect(deliveries.data.map((d: { id: string }) => d.id)).toContain(id);
      // Standard signing: webhook-id, webhook-timestamp and the v1 signature, as the HTTP headers are.
      const timestamp = attribute(message, "webhook-timestamp");
      const key = Buffer.from(rule.secret.slice("whsec_".length), "base64");
      const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${message.Body}`).digest("base64");
      expect(attribute(message, "X-SIGNATURE")).toBe(`v1,${signature}`);
    }
    expect(JSON.parse(firstCall[0].Body!)).toMatchObject({ uniqueid: "fifo.1", type: "call.start", src: "+15551234567" });
  });

  it("retries after SQS refused the first attempt, and a retry of a message SQS took is deduplicated", async () => {
    const standard = await queue("retried");
    const fifo = await queue("retried.fifo");
    await sqsRule(standard, { name: "standard" });
    await sqsRule(fifo, { name: "fifo", sqs: { ...SETTINGS, message_group_id: "{{agent.extension}}" } });
    // The standard queue's first attempt is throttled; the FIFO queue takes its message, but the answer is lost.
    proxy.refuse({ ...THROTTLED, queueUrl: standard }, { status: 503, body: "upstream went away", afterForwarding: true, queueUrl: fifo });
    const deliveries = await deliveriesOf(gw, await deliver(callEvent({ uniqueid: "retry.1" })));

    for (const delivery of deliveries) {
      expect(delivery.status).toBe("delivered");
      expect(delivery.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([expect.any(Number), 200]);
      // After the backoff (both deliveries wait on the one manual clock, so each may see the other's wait too).
      expect(Date.parse(delivery.attempts[1].started_at) - Date.parse(delivery.attempts[0].started_at)).toBeGreaterThanOrEqual(1_000);
    }
    const errors = deliveries.map((d) => d.attempts[0].error).sort();
    expect(errors).toEqual(["HTTP 503", "SQS ThrottlingException: Rate exceeded (HTTP 400)"]);
    expect(bodiesOf(await sqs.receive(standard))).toHaveLength(1);
    // Both attempts reached SQS with the same deduplication id: the queue holds the message once.
    const [message, ...again] = await sqs.receive(fifo);
    expect(again).toEqual([]);
    expect(message.Attributes).toMatchObject({ MessageGroupId: "201" });
    const sent = proxy.requests.map((r) => JSON.parse(r.body)).filter((input) => input.QueueUrl === fifo);
    expect(sent.map((input) => input.MessageDeduplicationId)).toEqual([message.Attributes?.MessageDeduplicationId, message.Attributes?.MessageDeduplicationId]);
  });

  it("fails at once when SQS says the credentials or the queue are wrong", async () => {
    const guarded = await queue("guarded");
    await sqsRule(guarded, { name: "bad key" });
    await sqsRule(`${proxy.url}/123456789012/never-created`, { name: "no queue" });
    proxy.refuse({ ...UNKNOWN_KEY, queueUrl: guarded });
    const deliveries = await deliveriesOf(gw, await deliver(callEvent()));
    const errors = deliveries.map((d) => {
      expect(d.status).toBe("failed");
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0].status_code).toBe(400);
      return d.last_error;
    });
    expect(errors.sort()).toEqual([
      "SQS AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist. (HTTP 400) (not retryable)",
      "SQS InvalidClientTokenId: The security token included in the request is invalid. (HTTP 400) (not retryable)",
    ]);
  });

  it("fails the delivery visibly when the message group id renders to something SQS refuses", async () => {
    await sqsRule(await queue("named.fifo"), { sqs: { ...SETTINGS, message_group_id: "{{caller_name}}" } });
    const [delivery] = await deliveriesOf(gw, await deliver(callEvent()));
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts[0].error).toMatch(/^render failed: sqs\.message_group_id: rendered "Jane Customer", which is not a MessageGroupId/);
    expect(proxy.requests).toEqual([]);
  });

  it("previews the message: queue, body, attributes with the signature masked, group and deduplication id", async () => {
    const queueUrl = await queue("preview.fifo");
    const { status, body } = await gw.api("POST", "/api/preview", {
      webhook: { transport: "sqs", url: queueUrl, sqs: SETTINGS, body_template: '{"call": "{{uniqueid}}", "from": "{{src}}"}', signing: "hmac-hex", secret: "a-secret-of-some-length" },
      event: callEvent({ uniqueid: "prev.1" }),
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      transport: "sqs",
      method: "POST",
      url: queueUrl,
      headers: {},
      body: '{"call": "prev.1", "from": "+15551234567"}',
      sqs: {
        message_attributes: { "webhook-id": "dlv_preview", "X-SIGNATURE": expect.stringMatching(/^\*\*\*\*[0-9a-f]{4}$/) },
        message_group_id: "prev.1",
        message_deduplication_id: "dlv_preview",
      },
      matches: true,
      unmatched: null,
      warnings: [],
      event_id: "evt_preview",
    });
    expect(proxy.requests).toEqual([]);
  });

  it("seals the secret access key at rest, masks it in responses, and keeps it when the masked value comes back", async () => {
    const queueUrl = await queue("sealed");
    const rule = await sqsRule(queueUrl);
    expect(rule.sqs.secret_access_key).toBe("****EKEY");
    const shown = JSON.stringify([(await gw.api("GET", `/api/webhooks/${rule.id}`)).body, (await gw.api("GET", "/api/webhooks")).body]);
    expect(shown).not.toContain(SQS_CREDENTIALS.secretAccessKey);
    expect(shown).toContain("****EKEY");

    // The console's way of saving: every setting back, the secret as it was shown.
    const patched = await gw.api("PATCH", `/api/webhooks/${rule.id}`, { sqs: { ...rule.sqs, region: SQS_REGION }, retries: 1 });
    expect(patched.status).toBe(200);
    expect(patched.body.sqs.secret_access_key).toBe("****EKEY");
    await deliver(callEvent());
    expect(await expectedSignature(proxy.requests[0], new URL(proxy.url).host)).toBe(/Signature=(\w+)/.exec(String(proxy.requests[0].headers.authorization))![1]);
    // A signature made with the masked value would not match AWS's with the real key.
    expect(await expectedSignature(proxy.requests[0], new URL(proxy.url).host, { ...SQS_CREDENTIALS, secretAccessKey: "****EKEY" })).not.toBe(
      /Signature=(\w+)/.exec(String(proxy.requests[0].headers.authorization))![1],
    );

    const client = createClient({ url: `file:${join(gw.dir, "gateway.db")}` });
    try {
      const { rows } = await client.execute("SELECT sqs FROM webhooks");
      const stored = JSON.parse(String(rows[0].sqs));
      expect(stored.access_key_id).toBe(SQS_CREDENTIALS.accessKeyId);
      expect(stored.secret_access_key).toMatch(/^enc:v1:/);
      expect(JSON.stringify(rows)).not.toContain(SQS_CREDENTIALS.secretAccessKey);
    } finally {
      client.close();
    }
  });

  it("refuses an incomplete or inconsistent SQS rule with a 400 naming the field", async () => {
    const queueUrl = await queue("checked");
    const base = { name: "sqs", events: ["call.end"], transport: "sqs", url: queueUrl, sqs: SETTINGS };
    const cases: Array<[Record<string, unknown>, string, number?]> = [
      [{ sqs: undefined }, "sqs"],
      [{ sqs: { ...SETTINGS, region: undefined } }, "sqs.region"],
      [{ sqs: { ...SETTINGS, access_key_id: undefined } }, "sqs.access_key_id"],
      [{ sqs: { ...SETTINGS, access_key_id: "not a key" } }, "sqs.access_key_id"],
      [{ sqs: { ...SETTINGS, endpoint: "x" } }, "sqs.endpoint"],
      [{ url: `${proxy.url}/` }, "url"],
      [{ url: `${proxy.url}/123456789012/{{agent.extension}}` }, "url"],
      [{ method: "GET" }, "method"],
      [{ headers: { "X-Api-Key": "k" } }, "headers"],
      [{ transport: "smoke-signals" }, "transport"],
      [{ transport: "http" }, "sqs"],
      [{ preset: "salesforce", preset_config: { instance_url: "https://acme.my.salesforce.com", client_id: "id", client_secret: "s", refresh_token: "t" } }, "transport"],
      [{ sqs: { ...SETTINGS, message_group_id: "{{#if uniqueid}}" } }, "sqs.message_group_id", 422],
    ];
    for (const [change, field, status = 400] of cases) {
      const answer = await gw.api("POST", "/api/webhooks", { ...base, ...change });
      expect(answer.status, field).toBe(status);
      expect(answer.body.error.details.map((d: { field: string }) => d.field), JSON.stringify(change)).toContain(field);
    }
    expect((await gw.api("GET", "/api/webhooks")).body.data).toEqual([]);

    // On AWS the region is in the queue URL's host.
    const aws = await createWebhook(gw, { ...base, url: "https://sqs.eu-central-1.amazonaws.com/123456789012/calls.fifo", sqs: { ...SETTINGS, region: undefined } });
    expect(aws.sqs.region).toBeNull();
    // Back to HTTP only by dropping the settings too.
    expect((await gw.api("PATCH", `/api/webhooks/${aws.id}`, { transport: "http", url: "https://crm.example.com/calls" })).body.error.details[0].field).toBe("sqs");
    const http = await gw.api("PATCH", `/api/webhooks/${aws.id}`, { transport: "http", url: "https://crm.example.com/calls", sqs: null });
    expect(http.body).toMatchObject({ transport: "http", sqs: null });
  });
});

describe("SQS queue URLs", () => {
  it("show the region on AWS hosts, and FIFO in the queue's name", () => {
    const cases: Array<[string, string | null]> = [
      ["https://sqs.eu-west-1.amazonaws.com/123456789012/calls", "eu-west-1"],
      ["https://sqs.cn-north-1.amazonaws.com.cn/123456789012/calls", "cn-north-1"],
      ["https://vpce-0abc-1xyz.sqs.us-gov-west-1.vpce.amazonaws.com/123456789012/calls", "us-gov-west-1"],
      ["https://ap-southeast-2.queue.amazonaws.com/123456789012/calls", "ap-southeast-2"],
      ["http://127.0.0.1:9324/000000000000/calls", null],
      ["https://sqs.example.com/123456789012/calls", null],
    ];
    for (const [url, region] of cases) expect([url, regionOfQueueUrl(url)]).toEqual([url, region]);
    expect(isFifoQueue("https://sqs.eu-west-1.amazonaws.com/123456789012/calls.fifo")).toBe(true);
    expect(isFifoQueue("https://sqs.eu-west-1.amazonaws.com/123456789012/calls")).toBe(false);
    expect(queueNameOf("https://sqs.eu-west-1.amazonaws.com/")).toBeNull();
    expect(queueNameOf("https://sqs.eu-west-1.amazonaws.com/123456789012/bad name")).toBeNull();
  });
});

import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import { SignatureV4 } from "@smithy/signature-v4";
import { createSqsServer } from "local-aws-sqs";

// SQS for tests, all on loopback: local-aws-sqs (a real SQS-compatible server) read back with the AWS SDK,
// a proxy in front of it that can refuse requests as SQS does, and AWS's own SigV4 signer as the judge of
// the gateway's signatures.

// The SDK warns once that its releases after January 2027 need Node 22; the version pinned here runs on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

export const SQS_REGION = "eu-west-1";
export const SQS_CREDENTIALS = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

/** local-aws-sqs on 127.0.0.1 (an ephemeral port) and the AWS SDK client that creates and reads its queues. */
export class LocalSqs {
  private server: Server | undefined;
  client!: SQSClient;
  url = "";

  async start(): Promise<this> {
    this.server = await createSqsServer({ port: 0, hostname: "127.0.0.1", region: SQS_REGION, emulateQueueCreationLifecycle: false });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.client = new SQSClient({ region: SQS_REGION, endpoint: this.url, credentials: SQS_CREDENTIALS });
    return this;
  }

  async createQueue(name: string): Promise<string> {
    const fifo = name.endsWith(".fifo");
    const { QueueUrl } = await this.client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: "true" } : undefined }),
    );
    return QueueUrl!;
  }

  /** The messages waiting in a queue (up to 10), with every attribute. */
  async receive(queueUrl: string): Promise<Message[]> {
    const { Messages = [] } = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
        // local-aws-sqs reads the older name of MessageSystemAttributeNames.
        AttributeNames: ["All"],
        WaitTimeSeconds: 0,
      }),
    );
    return Messages;
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Refusal {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Pass the request on to SQS first, then answer with the refusal: SQS took the message, its answer was lost. */
  afterForwarding?: boolean;
  /** Only a request for this queue is refused (deliveries to several queues are sent concurrently). */
  queueUrl?: string;
}

/** SQS's answer when a caller sends too fast (AWS JSON protocol). */
export const THROTTLED: Refusal = {
  status: 400,
  headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-query-error": "ThrottlingException;Sender" },
  body: JSON.stringify({ __type: "com.amazonaws.sqs#ThrottlingException", message: "Rate exceeded" }),
};

/** SQS's answer to an access key it does not know. */
export const UNKNOWN_KEY: Refusal = {
  status: 400,
  headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-query-error": "InvalidClientTokenId;Sender" },
  body: JSON.stringify({ __type: "com.amazon.coral.service#UnrecognizedClientException", message: "The security token included in the request is invalid." }),
};

/**
 * A real HTTP server on 127.0.0.1 in front of local SQS: it records every request and answers the next ones
 * with the refusals it is given, then forwards to SQS as is.
 */
export class SqsProxy {
  readonly requests: ProxiedRequest[] = [];
  private refusals: Refusal[] = [];
  private server: Server | undefined;
  url = "";

  constructor(private readonly target: string) {}

  refuse(...refusals: Refusal[]): void {
    this.refusals.push(...refusals);
  }

  /** The first refusal meant for this request, taken off the list. */
  private takeRefusal(body: string): Refusal | undefined {
    const queueUrl = (() => {
      try {
        return (JSON.parse(body) as { QueueUrl?: string }).QueueUrl;
      } catch {
        return undefined;
      }
    })();
    const index = this.refusals.findIndex((refusal) => refusal.queueUrl === undefined || refusal.queueUrl === queueUrl);
    return index < 0 ? undefined : this.refusals.splice(index, 1)[0];
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        this.requests.push({ method: req.method ?? "", path: req.url ?? "/", headers: req.headers, body });
        const refusal = this.takeRefusal(body);
        if (!refusal || refusal.afterForwarding) {
          const { host: _host, connection: _connection, "content-length": _length, ...headers } = req.headers;
          const answer = await fetch(this.target + (req.url ?? "/"), { method: req.method, headers: headers as Record<string, string>, body });
          const text = await answer.text();
          if (!refusal) return res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(text);
        }
        res.writeHead(refusal.status, refusal.headers ?? {}).end(refusal.body ?? "");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** SHA-256 as the AWS SDK's signer takes it, from node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * The signature AWS would compute for a received request: the headers it says it signed, at the time it says
 * it was signed, with the given credentials and region, by the AWS SDK's own SigV4 signer.
 */
export async function expectedSignature(request: ProxiedRequest, host: string, credentials = SQS_CREDENTIALS, region = SQS_REGION): Promise<string> {
  const authorization = String(request.headers.authorization);
  const signed = /SignedHeaders=([^,]+)/.exec(authorization)![1].split(";");
  const headers = Object.fromEntries(signed.map((name) => [name, name === "host" ? host : String(request.headers[name])]));
  const amzDate = String(request.headers["x-amz-date"]);
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
  const signer = new SignatureV4({ service: "sqs", region, credentials, sha256: Sha256, applyChecksum: false });
  const result = await signer.sign(
    { method: request.method, protocol: "http:", hostname: host.split(":")[0], port: Number(host.split(":")[1]), path: request.path, query: {}, headers, body: request.body },
    { signingDate, signableHeaders: new Set(signed), unsignableHeaders: new Set(Object.keys(request.headers).filter((h) => !signed.includes(h))) },
  );
  return /Signature=([0-9a-f]+)/.exec(String(result.headers.authorization))![1];
}

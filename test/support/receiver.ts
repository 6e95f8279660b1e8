import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Hold the response this long (to exercise timeouts). */
  delayMs?: number;
}

/**
 * A real HTTP endpoint on 127.0.0.1 that records every request and answers with scripted replies
 * (then 200). `waitFor(n)` resolves once n requests have arrived.
 */
export class Receiver {
  readonly requests: Received[] = [];
  private replies: Reply[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private server: Server | undefined;
  url = "";
  /** Computes a reply when none is scripted: a stand-in for an API that behaves like the real one. */
  handler: ((request: Received) => Reply) | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const received: Received = {
          method: req.method ?? "",
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        this.requests.push(received);
        const reply = this.replies.shift() ?? this.handler?.(received) ?? {};
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status ?? 200, { "content-type": "text/plain", ...reply.headers });
          res.end(reply.body ?? "ok");
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
        this.notify();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next requests get these replies, in order. */
  replyWith(...replies: Reply[]): void {
    this.replies.push(...replies);
  }

  waitFor(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.count ? (w.resolve(), false) : true));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The CRM stand-in on 127.0.0.1: answers 200 at once, and records when each event's first copy arrived,
 * keyed by the event's `uniqueid` (in the JSON body, whoever sent it).
 */
export class CountingReceiver {
  readonly arrivals = new Map<string, number>();
  url = "";
  private server: Server | undefined;
  private waiter: { count: number; resolve: () => void } | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", () => {
        const at = performance.now();
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
        const id = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { uniqueid?: string }).uniqueid;
        if (id !== undefined && !this.arrivals.has(id)) this.arrivals.set(id, at);
        if (this.waiter && this.arrivals.size >= this.waiter.count) this.waiter.resolve();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Resolves once `count` distinct events arrived, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.arrivals.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.arrivals.size} of ${count} deliveries arrived`)), timeoutMs);
      this.waiter = { count, resolve: () => (clearTimeout(timer), resolve()) };
    });
  }

  reset(): void {
    this.arrivals.clear();
    this.waiter = undefined;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

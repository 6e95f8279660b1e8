import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ScriptedReceiver, type Received } from "./scripted-receiver.js";
import { writeReply } from "./write-reply.js";

export type { Received, Reply } from "./scripted-receiver.js";

/**
 * A real HTTP endpoint on 127.0.0.1 (or another loopback `host`), in this process (the workerd suite's twin
 * is `test/workerd/receiver.ts`).
 */
export class Receiver extends ScriptedReceiver {
  private server: Server | undefined;

  async start(host = "127.0.0.1", port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const received: Received = {
          method: req.method ?? "",
          path: url.pathname,
          query: url.searchParams,
          target: req.url ?? "/",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        writeReply(res, this.answer(received));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

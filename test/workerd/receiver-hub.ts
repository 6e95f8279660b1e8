import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { writeReply } from "../support/write-reply.js";

/**
 * Real HTTP receivers on 127.0.0.1 for tests that run inside workerd, where no socket can be listened on.
 * The hub (Node, started by vitest's globalSetup) opens a real server per receiver and parks each request
 * it gets; the test side (`receiver.ts`) long-polls for them and posts the reply, so a receiver's script
 * and handler stay in the test, as on Node.
 */

interface Parked {
  id: number;
  server: string;
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: string;
}

interface Client {
  inbox: Parked[];
  poll: ServerResponse | undefined;
}

const POLL_MS = 20_000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export async function startHub() {
  const clients = new Map<string, Client>();
  /** Each receiver's server, and how many of its requests are open now and were at most (replies can be held). */
  const servers = new Map<string, { server: Server; client: string; open: number; mostOpen: number }>();
  const parked = new Map<number, ServerResponse>();
  let nextId = 1;

  const clientOf = (id: string) => {
    let client = clients.get(id);
    if (!client) clients.set(id, (client = { inbox: [], poll: undefined }));
    return client;
  };
  const flush = (client: Client) => {
    if (!client.poll) return;
    json(client.poll, 200, client.inbox.splice(0));
    client.poll = undefined;
  };

  async function openServer(clientId: string): Promise<{ id: string; url: string }> {
    const server = createServer(async (req, res) => {
      const id = nextId++;
      parked.set(id, res);
      const entry = servers.get(url)!;
      entry.mostOpen = Math.max(entry.mostOpen, ++entry.open);
      res.on("close", () => entry.open--);
      const client = clientOf(clientId);
      client.inbox.push({ id, server: url, method: req.method ?? "", url: req.url ?? "/", headers: req.headers, body: await readBody(req) });
      flush(client);
    });
    const url = await listen(server);
    servers.set(url, { server, client: clientId, open: 0, mostOpen: 0 });
    return { id: url, url };
  }

  const control = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://hub");
    const clientId = url.searchParams.get("client") ?? "";
    const body = await readBody(req);
    if (req.method === "POST" && url.pathname === "/servers") return json(res, 201, await openServer(clientId));
    if (req.method === "GET" && url.pathname === "/servers/most-open") {
      return json(res, 200, { most_open: servers.get(url.searchParams.get("url") ?? "")?.mostOpen ?? 0 });
    }
    if (req.method === "DELETE" && url.pathname === "/servers") {
      const entry = servers.get(url.searchParams.get("url") ?? "");
      servers.delete(url.searchParams.get("url") ?? "");
      entry?.server.closeAllConnections();
      entry?.server.close();
      flush(clientOf(clientId));
      return json(res, 200, {});
    }
    if (req.method === "GET" && url.pathname === "/next") {
      const client = clientOf(clientId);
      if (client.poll) json(client.poll, 200, []);
      client.poll = res;
      const timer = setTimeout(() => client.poll === res && flush(client), POLL_MS);
      res.on("close", () => clearTimeout(timer));
      if (client.inbox.length) flush(client);
      return;
    }
    const reply = /^\/reply\/(\d+)$/.exec(url.pathname);
    if (req.method === "POST" && reply) {
      const target = parked.get(Number(reply[1]));
      parked.delete(Number(reply[1]));
      if (target) writeReply(target, JSON.parse(body));
      return json(res, 200, {});
    }
    json(res, 404, { error: "unknown hub route" });
  });
  const url = await listen(control);
  return {
    url,
    async stop() {
      for (const { server } of servers.values()) {
        server.closeAllConnections();
        server.close();
      }
      control.closeAllConnections();
      await new Promise<void>((resolve) => control.close(() => resolve()));
    },
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    receiverHub: string;
  }
}

/** vitest globalSetup: the hub for the whole workerd run. */
export default async function setup(project: TestProject) {
  const hub = await startHub();
  project.provide("receiverHub", hub.url);
  return () => hub.stop();
}

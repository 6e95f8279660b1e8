import { env } from "cloudflare:workers";
import { ScriptedReceiver, type Received, type Reply } from "../support/scripted-receiver.js";

export type { Received, Reply } from "../support/scripted-receiver.js";

/**
 * The workerd twin of `test/support/receiver.ts`: a real HTTP server on 127.0.0.1 opened by the receiver
 * hub (Node), whose requests this side answers with the same script and handler.
 */

interface Parked {
  id: number;
  server: string;
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body: string;
}

const hub = () => (env as unknown as { RECEIVER_HUB: string }).RECEIVER_HUB;
const client = crypto.randomUUID();
const open = new Map<string, Receiver>();
let polling: Promise<void> | undefined;

/** Sends the hub the reply to a parked request, once its `until` (if any) has settled. */
async function sendReply(id: number, { until, ...reply }: Reply): Promise<void> {
  await until;
  await (await fetch(`${hub()}/reply/${id}`, { method: "POST", body: JSON.stringify(reply) })).arrayBuffer();
}

/** One long poll for all of this test file's receivers; it ends when the last one stops. */
async function poll(): Promise<void> {
  while (open.size) {
    const parked = (await (await fetch(`${hub()}/next?client=${client}`)).json()) as Parked[];
    for (const request of parked) {
      const answer = open.get(request.server)?.take(request) ?? { status: 503, body: "receiver stopped" };
      // A held reply waits on its own, so that the requests after it are answered meanwhile.
      if (answer.until) void sendReply(request.id, answer);
      else await sendReply(request.id, answer);
    }
  }
}

export class Receiver extends ScriptedReceiver {
  async start(): Promise<this> {
    const response = await fetch(`${hub()}/servers?client=${client}`, { method: "POST" });
    this.url = ((await response.json()) as { url: string }).url;
    open.set(this.url, this);
    polling ??= poll().finally(() => (polling = undefined));
    return this;
  }

  /** Answers a request the hub parked. */
  take(parked: Parked): Reply {
    const url = new URL(parked.url, "http://127.0.0.1");
    const received: Received = { method: parked.method, path: url.pathname, query: url.searchParams, target: parked.url, headers: parked.headers, body: parked.body };
    return this.answer(received);
  }

  /** The most requests this receiver had open at once (a reply with `delayMs` keeps one open). */
  async mostOpenAtOnce(): Promise<number> {
    const response = await fetch(`${hub()}/servers/most-open?url=${encodeURIComponent(this.url)}`);
    return ((await response.json()) as { most_open: number }).most_open;
  }

  async stop(): Promise<void> {
    open.delete(this.url);
    await (await fetch(`${hub()}/servers?client=${client}&url=${encodeURIComponent(this.url)}`, { method: "DELETE" })).arrayBuffer();
  }
}

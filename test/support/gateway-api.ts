import type { RetrySchedule } from "../../src/delivery/policy.js";
import type { ManualClock } from "./clock.js";

/** What tests use of a running gateway, on Node (`gateway.ts`) or in workerd (`test/workerd/gateway.ts`). */

export const ADMIN_TOKEN = "test-admin-token-0123456789";

/** The key for secrets at rest where a test gives one (workerd, dev:worker): 32 bytes in base64. */
export const ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0wMTIzNDU2Nzg5YWI=";

/** Short, jitter-free backoff: with the manual clock, retries take no real time. */
export const TEST_SCHEDULE: RetrySchedule = { baseDelayMs: 1_000, factor: 2, maxDelayMs: 3_600_000, jitter: 0 };

/** Retries due within this wait are sent at once (the clock moved on); later ones wait for a `sweep`. */
export const TEST_HOLD_MS = 10_000;

/** Receivers listen on loopback, which the SSRF guard refuses by default: tests permit it, as the README tells users to. */
export const TEST_OUTBOUND_ALLOW = "127.0.0.0/8,::1";

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A write of the store that a test can hold, to interleave two requests at that point. */
export type HeldWrite = "delete source" | "update source" | "insert rule" | "update rule" | "insert missed deliveries" | "retry delivery";

/** A held call: `reached` resolves once it is made (and waits); `release()` lets it run as it would have. */
export interface Held {
  reached: Promise<void>;
  release(): void;
}

/** The gate of one held call: `wait()` marks it reached and resolves on `release()`. */
export function heldCall(): Held & { wait(): Promise<void> } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  return {
    reached,
    release,
    async wait() {
      reach();
      await gate;
    },
  };
}

export interface GatewayUnderTest {
  /** Which gateway this is, for what only one runtime has (Node's ingest bounds, say). */
  runtime: "node" | "workers";
  url: string;
  clock: ManualClock;
  api<T = any>(method: string, path: string, body?: unknown): Promise<Answer<T>>;
  send(path: string, init: RequestInit): Promise<Answer>;
  /** Waits until everything due has been sent, including retries due within `TEST_HOLD_MS`. */
  settle(): Promise<void>;
  /** Picks up what is due now (as the sweep timer or the queue would) and waits for it. */
  sweep(): Promise<void>;
  /** Deletes what is past the retention period, as the expiry timer (Node) or the cron trigger (Workers) does. */
  expire(): Promise<void>;
  stop(remove?: boolean): Promise<void>;
  /** Holds the store's next write of this kind until `release()`. */
  holdNextWrite(write: HeldWrite): Held;
  /** Reads the gateway's database directly (the libSQL file on Node, D1 in workerd), for what the API does not show. */
  sql(query: string, args?: Array<string | number | null>): Promise<Array<Record<string, unknown>>>;
}

export async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, headers: response.headers };
}

/** `api` and `send` over any fetch that reaches the gateway. */
export function clientOf(fetcher: (path: string, init: RequestInit) => Promise<Response>) {
  const send = async (path: string, init: RequestInit) => answerOf(await fetcher(path, init));
  const api = (method: string, path: string, body?: unknown) =>
    send(path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { send, api };
}

/** Creates a source (canonical unless `kind` says otherwise) and returns its id and secret. */
export async function createSource(
  gw: Pick<GatewayUnderTest, "api">,
  name = "PBX",
  kind = "canonical",
  secret?: string,
): Promise<{ id: string; secret: string }> {
  const { status, body } = await gw.api("POST", "/api/sources", { name, kind, ...(secret ? { secret } : {}) });
  if (status !== 201) throw new Error(`source not created: ${JSON.stringify(body)}`);
  return { id: body.id, secret: body.secret };
}

export async function createWebhook(gw: Pick<GatewayUnderTest, "api">, rule: Record<string, unknown>): Promise<any> {
  const { status, body } = await gw.api("POST", "/api/webhooks", { name: "test rule", events: ["call.end"], ...rule });
  if (status !== 201) throw new Error(`webhook not created: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Applies `patch` to a rule; the rule as saved. */
export async function editWebhook(gw: Pick<GatewayUnderTest, "api">, rule: { id: string }, patch: Record<string, unknown>): Promise<any> {
  const { status, body } = await gw.api("PATCH", `/api/webhooks/${rule.id}`, patch);
  if (status !== 200) throw new Error(`webhook not saved: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Posts events to a source the way a PBX does, with its bearer secret. */
export function ingest(gw: Pick<GatewayUnderTest, "send">, source: { id: string; secret: string }, payload: unknown): Promise<Answer> {
  return gw.send(`/ingest/${source.id}`, {
    method: "POST",
    headers: { authorization: `Bearer ${source.secret}`, "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
}

/** An event's deliveries, each with its attempts, as the API shows them. */
export async function deliveriesOf(gw: GatewayUnderTest, eventId: string): Promise<any[]> {
  const { body } = await gw.api("GET", `/api/events/${eventId}`);
  return Promise.all(body.deliveries.map(async (d: { id: string }) => (await gw.api("GET", `/api/deliveries/${d.id}`)).body));
}

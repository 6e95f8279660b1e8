import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import { Agent, buildConnector } from "undici";
import { BlockedDestinationError, hostAllowed, hostRefusal, refusalOf, type OutboundAllow } from "../delivery/address-policy.js";
import { RESPONSE_EXCERPT_BYTES, wholeText, type Transport, type TransportReply } from "../delivery/transport.js";

/**
 * Resolves a host name for a socket about to connect and refuses it when any address it resolves to is
 * blocked: the address checked is the one connected to, so a name re-pointed after a rule was saved (DNS
 * rebinding) gains nothing.
 */
function guardedLookup(allow: OutboundAllow): LookupFunction {
  return (hostname, options, callback) => {
    if (hostAllowed(hostname, allow)) return dnsLookup(hostname, options, callback as never);
    dnsLookup(hostname, { ...(options as LookupOptions), all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      const refusal = addresses.map((a) => refusalOf(hostname, a.address, allow)).find(Boolean);
      if (refusal) return callback(new BlockedDestinationError(refusal), "", 0);
      if ((options as LookupOptions).all) return (callback as never as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * Connects through the guard: an IP-literal host never reaches a lookup (net connects to it directly), so it
 * is checked here; a name is checked by `guardedLookup` on the addresses it resolves to.
 */
function guardedConnector(allow: OutboundAllow): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup(allow) } as buildConnector.BuildOptions);
  return (options, callback) => {
    const refusal = hostRefusal(options.hostname, allow);
    if (refusal) return callback(new BlockedDestinationError(refusal), null);
    return connect(options, callback);
  };
}

/**
 * A header value as Workers send it: text beyond ASCII as its UTF-8 bytes. undici writes a string's characters
 * as single bytes (Latin-1) and refuses any beyond U+00FF, so it is given the UTF-8 bytes one per character.
 */
const utf8Value = (value: string) => (/^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, "utf8").toString("latin1"));

/** Request headers as undici's `request` takes them. */
function headerRecord(headers: HeadersInit | undefined): Record<string, string> {
  if (!headers) return {};
  const entries = headers instanceof Headers || Array.isArray(headers) ? [...(headers as Iterable<[string, string]>)] : Object.entries(headers);
  return Object.fromEntries(entries.map(([name, value]) => [name, utf8Value(value)]));
}

/** The first `maxBytes` of a body (all of a shorter one), read straight from the socket's stream; the rest is dropped unread. */
async function streamPrefix(body: Readable, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= maxBytes) break; // leaving the loop destroys the stream
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}

/** undici's answer as a reply, its body read only as far as asked (a web stream per reply is costly on Node 20). */
function nodeReply(status: number, headers: Headers, body: Readable): TransportReply {
  // A 1xx or 204/304 has no body.
  const empty = status < 200 || status === 204 || status === 304;
  if (empty) body.resume();
  const prefix = (limit: number) => (empty ? Promise.resolve(new Uint8Array(0)) : streamPrefix(body, limit));
  return {
    status,
    ok: status >= 200 && status < 300,
    headers,
    text: (maxBytes) => wholeText(prefix, maxBytes),
    excerpt: async (maxBytes = RESPONSE_EXCERPT_BYTES) => new TextDecoder().decode(await prefix(maxBytes)),
  };
}

/**
 * What the request line carries: the URL's path and query exactly as stored, an empty query's `?` included
 * (`search` drops it), without the fragment, which is never sent.
 */
function requestTarget(url: URL): string {
  const query = url.search || (url.href.split("#", 1)[0].endsWith("?") ? "?" : "");
  return url.pathname + query;
}

/**
 * A request through undici's `request`, which follows no redirect and costs less than half the CPU of its
 * `fetch`; a failure is still fetch's "fetch failed" with the reason as its cause.
 */
async function requestOnce(agent: Agent, url: string, init: RequestInit): Promise<TransportReply> {
  try {
    const target = new URL(url);
    const { statusCode, headers, body } = await agent.request({
      origin: target.origin,
      path: requestTarget(target),
      method: (init.method ?? "GET") as "GET",
      headers: headerRecord(init.headers),
      body: (init.body ?? undefined) as string | undefined,
      signal: init.signal ?? undefined,
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      for (const one of Array.isArray(value) ? value : [value ?? ""]) responseHeaders.append(name, one);
    }
    return nodeReply(statusCode, responseHeaders, body);
  } catch (error) {
    const name = (error as Error).name;
    if (name === "TimeoutError" || name === "AbortError") throw error;
    throw new TypeError("fetch failed", { cause: error });
  }
}

/**
 * Outbound HTTP through one pooled keep-alive Agent (plain global fetch measured about 5x slower here) whose
 * every new connection passes the SSRF guard. `connections` per origin is the dispatcher's whole concurrency:
 * rules to one host (a CRM's endpoints, SQS in a region) share its pool, and at 64, one rule's share, a rule
 * whose endpoint hung held every connection while the other rules' requests queued behind it for its timeout.
 */
export function createNodeTransport(allow: OutboundAllow, connections: number): Transport & { close(): Promise<void> } {
  const agent = new Agent({
    connections,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: guardedConnector(allow),
  });
  return {
    fetch: (url, init) => requestOnce(agent, url, init),
    close: () => agent.close(),
  };
}

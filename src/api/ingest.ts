import { Hono, type MiddlewareHandler } from "hono";
import { isoAt } from "../clock.js";
import { found, GatewayError } from "../domain/errors.js";
import type { NormalizedEvent } from "../domain/event.js";
import { MAX_STORED_TEXT_BYTES, utf8Length } from "../domain/utf8.js";
import type { SourceAdapter } from "../sources/adapter.js";
import { adapterFor } from "../sources/registry.js";
import type { Source } from "../store/sources.js";
import { acceptEvents, type Accepted } from "./accept.js";
import { admitAtMost, OVERLOADED } from "./admission.js";
import { holdBodyBytesAtMost } from "./body-bytes.js";
import type { AppDeps } from "./deps.js";
import { parseJson, requireJsonContentType } from "./json-body.js";
import { RateLimiter, refuseWhileLimited } from "./rate-limit.js";
import { bodyOf, INGEST_BODY_LIMIT, limitBody } from "./request-body.js";
import type { AcceptedView } from "./view-schemas.js";

const utf8 = new TextDecoder();

/** What the ingest route knows of a request before its body: the source it is for. */
type Env = { Variables: { source: Source } };

/** Refuses a request with an event whose payload is more than one stored text may take (D1 would refuse its row). */
function refuseOversizedEvents(items: NormalizedEvent[]): void {
  const index = items.findIndex((item) => utf8Length(JSON.stringify(item.raw)) > MAX_STORED_TEXT_BYTES);
  if (index < 0) return;
  const which = items.length > 1 ? `Event ${index} of the request` : "The event";
  throw new GatewayError(413, "event_too_large", `${which} is larger than ${MAX_STORED_TEXT_BYTES} bytes of JSON, the most one event may be`);
}

/** How often at most a refusal of one kind is logged: they can come in floods, and each line costs the event loop. */
const REFUSAL_LOG_INTERVAL_MS = 1_000;

/** Refusals that come in floods: overload, and those anyone may cause who knows no secret, or no ingest URL at all. */
const FLOODED = new Set([OVERLOADED, "unauthorized", "not_found", "source_disabled"]);

/**
 * Logs the first refusal of each kind at once, then at most one a second, each line saying how many of that
 * kind went unlogged since the last. A kind is the code, and for a known source its id too (one PBX's flood
 * hides no other's); unknown ids are one kind, as anyone can make up as many as they like, and so is overload,
 * which is the gateway's, not a source's.
 */
function throttledLog(deps: AppDeps) {
  const kinds = new Map<string, { loggedAt: number; unlogged: number }>();
  return (fields: { source_id?: string; status: number; code: string }) => {
    if (!FLOODED.has(fields.code)) return deps.log.warn("ingest refused", fields);
    const key = fields.status === 404 || fields.code === OVERLOADED ? fields.code : `${fields.code} ${fields.source_id}`;
    const kind = kinds.get(key) ?? { loggedAt: -Infinity, unlogged: 0 };
    kinds.set(key, kind);
    const now = deps.clock.now();
    if (now - kind.loggedAt < REFUSAL_LOG_INTERVAL_MS) {
      kind.unlogged += 1;
      return;
    }
    deps.log.warn("ingest refused", { ...fields, unlogged_since_last: kind.unlogged });
    kind.loggedAt = now;
    kind.unlogged = 0;
  };
}

/**
 * Counts and logs each refused ingest request by its error code: a PBX whose secret changed, or whose events
 * stopped parsing, would otherwise lose its events unseen. A refusal is a 4xx, or a 503 `overloaded` (the
 * database's 503s have their own counter). Rate-limited requests are counted but not logged, and those that
 * come in floods (FLOODED) logged at most once a second of each kind.
 */
function countRefusals(deps: AppDeps): MiddlewareHandler {
  const logRefusal = throttledLog(deps);
  return async (c, next) => {
    await next();
    const status = c.res.status;
    const code = c.error instanceof GatewayError ? c.error.code : `http_${status}`;
    if (!((status >= 400 && status < 500) || code === OVERLOADED)) return;
    deps.metrics.ingestRefused.inc({ code });
    if (status === 429) return;
    // The code says why; the message is left out, as a JSON parser's quotes the event's own text.
    logRefusal({ source_id: c.req.param("sourceId")?.slice(0, 64), status, code });
  };
}

/** `POST /ingest/:sourceId`: verify, normalize, commit, then answer 202 with the event ids. */
export function ingestRoutes(deps: AppDeps) {
  const app = new Hono<Env>();
  app.use("/:sourceId", countRefusals(deps));
  // Counts verified requests only: a stranger with the URL cannot use up a PBX's allowance.
  const perSource = new RateLimiter(deps.rateLimits.ingest, deps.clock);

  /** Normalizes with the stored state of the payload's calls and commits, one call's events at a time where the runtime can. */
  async function normalizeAndAccept(adapter: SourceAdapter, source: Source, payload: unknown, query: Record<string, string>, bodyBytes: number) {
    const callIds = adapter.callIds?.(payload) ?? [];
    const accept = async () => {
      const calls = callIds.length ? await deps.store.events.callStates(source.id, callIds) : new Map();
      const receivedAt = isoAt(deps.clock.now());
      const items = adapter.normalize(payload, { receivedAt, query, calls });
      // Only a body that large can hold an event that large: measuring costs nothing on the usual request.
      if (bodyBytes > MAX_STORED_TEXT_BYTES) refuseOversizedEvents(items);
      return acceptEvents(deps, source, items);
    };
    return deps.callLock ? deps.callLock.run(callIds.map((id) => `${source.id}:${id}`), accept) : accept();
  }

  /**
   * The source, looked up from the head (on Node from memory): a request for none, or a disabled one, is
   * answered before any of its body is read or held, and its connection closed. Otherwise a stranger who knows
   * no ingest URL could declare 2 MiB bodies, send none of them, and hold the bytes every PBX shares.
   */
  const knownSource: MiddlewareHandler<Env> = async (c, next) => {
    const id = c.req.param("sourceId")!;
    const source = await deps.store.sources.get(id);
    if (source?.enabled) {
      c.set("source", source);
      return next();
    }
    // Its body unread, the connection can serve no other request.
    c.header("Connection", "close");
    found(source, "source", id);
    throw new GatewayError(403, "source_disabled", `Source ${id} is disabled`);
  };

  // Bytes are held from the head on, so counted before limitBody reads a body without a length.
  const holdBytes: MiddlewareHandler =
    deps.ingestBodyBytes === undefined ? (_c, next) => next() : holdBodyBytesAtMost(deps.ingestBodyBytes, INGEST_BODY_LIMIT);
  const admit: MiddlewareHandler[] = deps.ingestPending === undefined ? [] : [admitAtMost(deps.ingestPending)];
  app.post("/:sourceId", knownSource, holdBytes, limitBody(INGEST_BODY_LIMIT), ...admit, async (c) => {
    // Real elapsed time, whatever the clock: the latency a PBX sees (on Workers it advances across I/O only).
    const started = performance.now();
    const id = c.req.param("sourceId");
    const source = c.get("source");

    const adapter = adapterFor(source.kind);
    const body = new Uint8Array(await bodyOf(c));
    const query = c.req.query();
    if (!(await adapter.verify({ headers: c.req.raw.headers, body, query }, source.secret))) {
      throw new GatewayError(401, "unauthorized", `The request does not prove it knows this source's secret: send ${adapter.proof}`);
    }
    refuseWhileLimited(c, perSource.take(source.id), `Source ${id} sends more than its rate limit`);
    if (!adapter.anyContentType) requireJsonContentType(c);
    const payload = parseJson(utf8.decode(body));
    const accepted = await normalizeAndAccept(adapter, source, payload, query, body.length);

    const answer = ({ event_id, deliveries, duplicate }: Accepted): AcceptedView =>
      duplicate ? { event_id, deliveries, duplicate } : { event_id, deliveries };
    deps.metrics.ingestDuration.observe((performance.now() - started) / 1000);
    return c.json(Array.isArray(payload) ? { events: accepted.map(answer) } : answer(accepted[0]), 202);
  });

  return app;
}

import { createHmac } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { AddressInfo } from "node:net";
import { createAdaptorServer, type HttpBindings, type ServerType } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { optionalTokenAuth, resolveAdminAuth } from "../api/admin-token.js";
import { Bound } from "../api/bound.js";
import { KeyedLock } from "../api/keyed-lock.js";
import { createApp } from "../app.js";
import { systemClock, type Clock } from "../clock.js";
import type { GatewayConfig } from "../config.js";
import { DEFAULT_DISPATCHER_LIMITS, Dispatcher, type DispatcherLimits } from "../delivery/dispatcher.js";
import type { RetrySchedule } from "../delivery/policy.js";
import { useRuntimeHmac } from "../domain/crypto.js";
import { errorText } from "../domain/errors.js";
import { createLogger, type Logger } from "../log.js";
import { createGatewayMetrics } from "../metrics/gateway.js";
import { createStore, type Store } from "../store/index.js";
import { EXPIRY_INTERVAL_MS, expireRecords, type Expired } from "../store/retention.js";
import { KeyMismatchError, opensStoredSecrets, sealedWithKeyId, sealStoredSecrets } from "../store/stored-secrets.js";
import { loadConsoleAssets } from "./node-console.js";
import { lockDatabase, openDatabase } from "./node-database.js";
import { keyMismatch, nodeEncryptionKey, type NodeEncryptionKey } from "./node-encryption-key.js";
import { loadPartials } from "./node-partials.js";
import { createNodeTransport } from "./node-transport.js";

interface NodeGatewayOptions extends GatewayConfig {
  clock?: Clock;
  log?: Logger;
  schedule?: RetrySchedule;
  /** How often the outbox is swept for delayed, parked and left-over deliveries. */
  sweepIntervalMs?: number;
  holdInMemoryMs?: number;
  dispatcherLimits?: DispatcherLimits;
  /** How long a client may take to send a request before it is answered 408 (30 s). */
  requestTimeoutMs?: number;
  /** What `/metrics` and `/health` wait for the database on (real time; see AppDeps). */
  databaseWaitClock?: Clock;
  /** The most failed deliveries a recover request retries (see AppDeps). */
  recoverPage?: number;
  /** The most events a replay request looks at (see AppDeps). */
  replayPage?: number;
  /** The most bytes of events a replay request reads whole (see AppDeps). */
  replayPageBytes?: number;
}

export interface NodeGateway {
  url: string;
  /** The Hono app being served (its routes, for the check that the OpenAPI document covers them). */
  app: ReturnType<typeof createApp>;
  store: Store;
  dispatcher: Dispatcher;
  /** The admin token generated on this first start, to be shown once; null otherwise. */
  generatedAdminToken: string | null;
  /** Where the key for secrets at rest came from (and its file, unless ENCRYPTION_KEY). */
  encryptionKey: Omit<NodeEncryptionKey, "box">;
  /** Deletes what is past the retention period now (a timer does it every minute), after any pass under way. */
  expire(): Promise<Expired>;
  /** Stops serving and sending, logging when it begins (on `signal`, if one asked for it) and when it is done. */
  close(signal?: NodeJS.Signals): Promise<void>;
}

/** How long a client may take to send a whole request (Node's default is five minutes), and its headers. */
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
/**
 * Connections the system may queue before the gateway accepts them (Linux caps it at net.core.somaxconn).
 * Node's 511 overflowed when a few thousand PBX connections opened at once: the rest waited seconds for
 * their SYN to be resent.
 */
const LISTEN_BACKLOG = 4_096;

/**
 * Serves the app. A client that trickles its request in is answered 408 and cut off once the timeout
 * passes, so that slow connections cannot pile up (checked every second or so). Once `stopping` aborts,
 * each answer closes its connection: closing the server closes idle connections only, so a client that
 * keeps posting on a keep-alive connection (a PBX sending calls) would be served, and the stop kept
 * waiting, for ever.
 */
function listen(app: ReturnType<typeof createApp>, host: string, port: number, requestTimeoutMs: number, stopping: AbortSignal): Promise<ServerType> {
  const serverOptions = {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
    connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs),
  };
  const fetch = async (request: Request, env: HttpBindings) => {
    const response = await app.fetch(request, env);
    if (stopping.aborted && !env.outgoing.headersSent) env.outgoing.setHeader("connection", "close");
    return response;
  };
  return new Promise((resolve, reject) => {
    const server = createAdaptorServer({ fetch: fetch as never, hostname: host, serverOptions });
    server.once("error", reject);
    server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => resolve(server));
  });
}

/**
 * Who sent the request: the socket's address, or behind `hops` reverse proxies the address the outermost of
 * them saw, which each proxy appends to X-Forwarded-For (entries further left are the client's to invent).
 */
function clientAddress(c: Context, hops: number): string {
  const socket = getConnInfo(c).remote.address ?? "unknown";
  if (hops === 0) return socket;
  const forwarded = (c.req.header("x-forwarded-for") ?? "").split(",").map((address) => address.trim()).filter(Boolean);
  return forwarded[forwarded.length - hops] ?? socket;
}

/**
 * The origin the client used: behind reverse proxies, with the scheme the outermost was reached by, which it
 * sets in X-Forwarded-Proto (a proxy ending TLS talks plain HTTP to the gateway). The host is the request's
 * own: a proxy passes the client's Host on.
 */
function publicOrigin(c: Context, hops: number): string {
  const url = new URL(c.req.url);
  const scheme = hops === 0 ? undefined : c.req.header("x-forwarded-proto")?.split(",")[0].trim().toLowerCase();
  if (scheme === "https" || scheme === "http") url.protocol = `${scheme}:`;
  return url.origin;
}

/**
 * How long a retention pass may go on starting transactions: three quarters of the interval, so that it ends
 * before the next is due (the timer skips a turn while one still runs). Ingest and deliveries commit between
 * its transactions meanwhile (the database thread takes messages in order).
 */
const EXPIRY_BUDGET_MS = 45_000;
const EXPIRY_PASS = "retention pass";

/**
 * The gateway on Node: libSQL store, pooled undici transport, in-process dispatcher, HTTP server. A second one
 * on the same database file is refused before it touches the database (see lockDatabase).
 */
export async function startNodeGateway(options: NodeGatewayOptions): Promise<NodeGateway> {
  const lock = lockDatabase(options.databaseUrl);
  try {
    const gateway = await startOnDatabase(options);
    return { ...gateway, close: (signal) => gateway.close(signal).finally(() => lock.release()) };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startOnDatabase(options: NodeGatewayOptions): Promise<NodeGateway> {
  useRuntimeHmac((key, message) => createHmac("sha256", key).update(message).digest());
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(options.logLevel);
  const { db, driver, client } = await openDatabase(options.databaseUrl, options.databaseAuthToken);
  let key: NodeEncryptionKey;
  try {
    key = await nodeEncryptionKey(options.encryptionKey, options.databaseUrl, await sealedWithKeyId(db));
    // The only process on its database: every secret sealed before serving, and nothing written meanwhile.
    const { records } = await sealStoredSecrets(db, key.box, { pages: Infinity, nowMs: clock.now(), graceMs: 0 });
    if (records) log.info("secrets at rest sealed with the current key", { records, key_id: key.box.keyId });
  } catch (error) {
    const refusal = error instanceof KeyMismatchError ? await keyMismatch(error, key!, options.databaseUrl, (box) => opensStoredSecrets(db, box)) : error;
    client.close();
    throw refusal;
  }
  // Commits that arrive while the event loop handles ready I/O share one transaction and one disk sync.
  // One gateway process per database (its dispatcher takes back every lease at start), so it may keep
  // sources and rules in memory.
  const store = createStore(db, driver, key.box, { groupWith: setImmediate, soleWriter: true });
  const sendLimits = options.dispatcherLimits ?? DEFAULT_DISPATCHER_LIMITS;
  const transport = createNodeTransport(options.outboundAllow, sendLimits.concurrency);
  const metrics = createGatewayMetrics();
  const dispatcher = new Dispatcher({
    store,
    transport,
    clock,
    log,
    metrics,
    schedule: options.schedule,
    holdInMemoryMs: options.holdInMemoryMs,
    limits: sendLimits,
  });
  // Past Node's default of 10 listeners on one signal it would print "Possible EventTarget memory leak
  // detected" under any load, though each listener is removed.
  setMaxListeners(sendLimits.concurrency + 16, dispatcher.stopSignal);
  const { auth, generated, keep: keepAdminToken } = await resolveAdminAuth(store, options.adminToken);
  const app = createApp({
    store,
    clock,
    log,
    queue: dispatcher,
    adminAuth: auth,
    partials: loadPartials(),
    console: loadConsoleAssets(),
    metrics,
    metricsAuth: await optionalTokenAuth(options.metricsToken),
    outboundAllow: options.outboundAllow,
    rateLimits: options.rateLimits,
    clientAddress: (c) => clientAddress(c, options.trustProxyHops),
    publicOrigin: (c) => publicOrigin(c, options.trustProxyHops),
    callLock: new KeyedLock(),
    ingestPending: new Bound(options.ingestMaxPending),
    ingestBodyBytes: new Bound(options.ingestMaxBodyBytes),
    databaseWaitClock: options.databaseWaitClock,
    shareDatabaseReads: true,
    recoverPage: options.recoverPage,
    replayPage: options.replayPage,
    replayPageBytes: options.replayPageBytes,
  });

  // One dispatcher per database: whatever it held when the process stopped is its to send again, when due.
  await store.deliveries.releaseLeases();
  const stopping = new AbortController();
  const server = await listen(app, options.host, options.port, options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, stopping.signal);
  await keepAdminToken();
  dispatcher.start(options.sweepIntervalMs ?? 1_000);
  // One retention pass at a time: a call made while one runs waits for it.
  const passes = new KeyedLock();
  const limits = { budgetMs: EXPIRY_BUDGET_MS, maxTransactions: Infinity, signal: stopping.signal };
  const expire = () => passes.run([EXPIRY_PASS], () => expireRecords({ store, clock, log, metrics }, options.retentionDays, limits));
  // A pass still under way when the next is due (one slow transaction past its budget) keeps its turn.
  const expiry = setInterval(() => {
    if (!passes.busy(EXPIRY_PASS)) expire().catch((error) => log.error("deleting expired records failed", { error: errorText(error) }));
  }, EXPIRY_INTERVAL_MS);

  const { port } = server.address() as AddressInfo;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;
  return {
    app,
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`,
    store,
    dispatcher,
    generatedAdminToken: generated,
    encryptionKey: { origin: key.origin, file: key.file },
    expire,
    async close(signal) {
      const began = performance.now();
      log.info("gateway stopping", signal ? { signal } : {});
      clearInterval(expiry);
      // A pass under way ends after its current transaction.
      stopping.abort();
      await passes.run([EXPIRY_PASS], async () => {});
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const handedBack = await dispatcher.stop();
      await transport.close();
      client.close();
      log.info("gateway stopped", { duration_ms: Math.round(performance.now() - began), deliveries_handed_back: handedBack });
    },
  };
}

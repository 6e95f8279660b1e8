import type { Clock } from "../clock.js";
import type { ConsoleAssets } from "../console/routes.js";
import type { OutboundAllow } from "../delivery/address-policy.js";
import type { DeliveryQueue } from "../delivery/queue.js";
import type { Logger } from "../log.js";
import type { GatewayMetrics } from "../metrics/gateway.js";
import type { Store } from "../store/index.js";
import type { Context } from "hono";
import type { AdminAuth } from "./admin-token.js";
import type { Bound } from "./bound.js";
import type { KeyedLock } from "./keyed-lock.js";
import type { RateLimits } from "./rate-limit.js";

/** What the app is built from; each runtime supplies its own. */
export interface AppDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Told about each committed delivery, after the commit. */
  queue: DeliveryQueue;
  adminAuth: AdminAuth;
  /** Handlebars partials by name, from `templates/partials/`. */
  partials: Record<string, string>;
  /** The web console's files. */
  console: ConsoleAssets;
  /** Counters and histograms of this process (on Workers, this isolate). */
  metrics: GatewayMetrics;
  /** The `METRICS_TOKEN` check, or null: `/metrics` is open. */
  metricsAuth: AdminAuth | null;
  /** OUTBOUND_ALLOW: a rule whose URL is a blocked IP literal is refused when saved unless this permits it. */
  outboundAllow: OutboundAllow;
  /** Ingest and admin-auth rate limits. */
  rateLimits: RateLimits;
  /** The caller's address, as the runtime knows it (rate limits of admin auth failures are per address). */
  clientAddress?: (c: Context) => string;
  /**
   * The origin the caller reached the gateway at, for the URLs it shows (a source's `ingest_url`): the request's
   * own unless the runtime knows better (Node behind a reverse proxy that ends TLS).
   */
  publicOrigin?: (c: Context) => string;
  /**
   * Runs a call's events one after another (Node). None on Workers, where a request cannot wait on another's
   * I/O (workerd cancels it as hung), and isolates would not share a lock anyway.
   */
  callLock?: KeyedLock;
  /**
   * Ingest requests handled at once, past which ingest answers 503 `overloaded` (Node: INGEST_MAX_PENDING), and
   * how many are now (`/metrics`). None on Workers: each isolate serves its own requests and Cloudflare starts
   * more isolates under load.
   */
  ingestPending?: Bound;
  /**
   * Bytes of ingest bodies held at once, being read or handled, past which ingest answers 503 `overloaded` (Node:
   * INGEST_MAX_BODY_BYTES; none on Workers, as above), and how many are now.
   */
  ingestBodyBytes?: Bound;
  /**
   * What the waits of `/metrics` and `/health` for the database run on: real time unless a test ends them by
   * hand (the gateway's clock will not do: a test's manual clock ends every wait at once).
   */
  databaseWaitClock?: Clock;
  /**
   * `/metrics` and `/health` share the database read in flight instead of sending another (Node: the database
   * thread runs one operation after another, so reads sent behind a stuck write would pile up). Not on
   * Workers, where a request cannot wait on another's I/O, and D1's reads do not queue behind each other.
   */
  shareDatabaseReads?: boolean;
  /** The most failed deliveries a recover request retries (RECOVER_PAGE): tests make it small, to go over pages. */
  recoverPage?: number;
  /** The most events a replay request looks at (REPLAY_PAGE): tests make it small, to go over pages. */
  replayPage?: number;
  /** The most bytes of events a replay request reads whole (REPLAY_PAGE_BYTES): tests make it small, likewise. */
  replayPageBytes?: number;
}

import type { Clock } from "../clock.js";
import type { ConsoleAssets } from "../console/routes.js";
import type { DeliveryQueue } from "../delivery/queue.js";
import type { Logger } from "../log.js";
import type { Store } from "../store/index.js";
import type { Context } from "hono";
import type { AdminAuth } from "./admin-token.js";
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
  /** Ingest and admin-auth rate limits; `DEFAULT_RATE_LIMITS` when absent. */
  rateLimits?: RateLimits;
  /** The caller's address, as the runtime knows it (rate limits of admin auth failures are per address). */
  clientAddress?: (c: Context) => string;
}

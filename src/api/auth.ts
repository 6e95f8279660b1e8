import type { Context, MiddlewareHandler } from "hono";
import { GatewayError } from "../domain/errors.js";
import type { AdminAuth } from "./admin-token.js";
import { clientKey } from "./client-key.js";
import { refuseWhileLimited, type RateLimiter } from "./rate-limit.js";

/**
 * Wrong tokens cost the client address (an IPv6 one's /64) a token of `failures`; an address out of them gets
 * 429 before its token is even checked.
 */
interface FailureLimit {
  failures: RateLimiter;
  clientAddress: (c: Context) => string;
}

/** `Authorization: Bearer <admin token>` on every admin route, so guessing stays slow. */
export function requireAdmin(auth: AdminAuth, limit: FailureLimit): MiddlewareHandler {
  return requireToken(auth, "admin", limit);
}

/** How often a check that found the failure budget held by checks still running looks again, and how many times. */
const RECHECK_MS = 2;
const RECHECKS = 2_500;

/** `Authorization: Bearer <token>`, checked by `auth`; `realm` names the token in the challenge and errors. */
export function requireToken(auth: AdminAuth, realm: string, limit?: FailureLimit): MiddlewareHandler {
  /** Checks running, by client address. */
  const checking = new Map<string, number>();

  /**
   * Holds a token of the address's failure budget for one check, given back if its token is right: checks
   * running at once cannot together try more wrong tokens than the budget has left. When the budget is held
   * by checks still running (a client sending many requests at once), this one waits its turn; only a budget
   * spent on wrong tokens is a 429. It waits by looking again, not on another request's promise, which a
   * Workers isolate must not share between requests.
   */
  async function holdBudget(c: Context, failures: RateLimiter, address: string): Promise<void> {
    for (let look = 0; ; look++) {
      const waitMs = failures.take(address);
      if (waitMs === 0) return;
      // Checks that hang (a database that does not answer) must not hold a crowd of waiting requests for ever.
      if (!checking.get(address) || look === RECHECKS) refuseWhileLimited(c, waitMs, `Too many wrong ${realm} tokens from this address`);
      await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
    }
  }

  async function verified(token: string, failures: RateLimiter, address: string): Promise<boolean> {
    checking.set(address, (checking.get(address) ?? 0) + 1);
    try {
      const right = await auth.verify(token);
      if (right) failures.giveBack(address);
      return right;
    } catch (error) {
      failures.giveBack(address); // the check could not be made (the database, say): no wrong token was tried
      throw error;
    } finally {
      const left = checking.get(address)! - 1;
      if (left) checking.set(address, left);
      else checking.delete(address);
    }
  }

  return async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      c.header("WWW-Authenticate", `Bearer realm="${realm}"`);
      throw new GatewayError(401, "unauthorized", `Send Authorization: Bearer <${realm} token>`);
    }
    let right: boolean;
    if (limit) {
      const address = clientKey(limit.clientAddress(c));
      await holdBudget(c, limit.failures, address);
      right = await verified(match[1], limit.failures, address);
    } else right = await auth.verify(match[1]);
    if (!right) throw new GatewayError(401, "unauthorized", `The ${realm} token is not valid`);
    await next();
  };
}

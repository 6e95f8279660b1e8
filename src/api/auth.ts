import type { Context, MiddlewareHandler } from "hono";
import { GatewayError } from "../domain/errors.js";
import type { AdminAuth } from "./admin-token.js";
import { refuseWhileLimited, type RateLimiter } from "./rate-limit.js";

/**
 * `Authorization: Bearer <admin token>` on every admin route. Each wrong token costs the client address a token
 * of `failures`; an address out of tokens gets 429 before its token is even checked, so guessing stays slow.
 */
export function requireAdmin(auth: AdminAuth, failures: RateLimiter, clientAddress: (c: Context) => string): MiddlewareHandler {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      c.header("WWW-Authenticate", 'Bearer realm="admin"');
      throw new GatewayError(401, "unauthorized", "Send Authorization: Bearer <admin token>");
    }
    const address = clientAddress(c);
    refuseWhileLimited(c, failures.waitFor(address), "Too many wrong admin tokens from this address");
    if (!(await auth.verify(match[1]))) {
      failures.take(address);
      throw new GatewayError(401, "unauthorized", "The admin token is not valid");
    }
    await next();
  };
}

import type { Context, MiddlewareHandler } from "hono";
import { GatewayError } from "../domain/errors.js";
import type { AdminAuth } from "./admin-token.js";
import { refuseWhileLimited, type RateLimiter } from "./rate-limit.js";

/** Wrong tokens cost the client address a token of `failures`; an address out of them gets 429 before its token is even checked. */
export interface FailureLimit {
  failures: RateLimiter;
  clientAddress: (c: Context) => string;
}

/** `Authorization: Bearer <admin token>` on every admin route, so guessing stays slow. */
export function requireAdmin(auth: AdminAuth, limit: FailureLimit): MiddlewareHandler {
  return requireToken(auth, "admin", limit);
}

/** `Authorization: Bearer <token>`, checked by `auth`; `realm` names the token in the challenge and errors. */
export function requireToken(auth: AdminAuth, realm: string, limit?: FailureLimit): MiddlewareHandler {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      c.header("WWW-Authenticate", `Bearer realm="${realm}"`);
      throw new GatewayError(401, "unauthorized", `Send Authorization: Bearer <${realm} token>`);
    }
    const address = limit?.clientAddress(c) ?? "";
    if (limit) refuseWhileLimited(c, limit.failures.waitFor(address), `Too many wrong ${realm} tokens from this address`);
    if (!(await auth.verify(match[1]))) {
      limit?.failures.take(address);
      throw new GatewayError(401, "unauthorized", `The ${realm} token is not valid`);
    }
    await next();
  };
}

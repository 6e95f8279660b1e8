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
    // Each check holds a token of the address's failure budget while it runs, given back if the token was
    // right: checks running at once cannot together try more wrong tokens than the budget has left.
    if (limit) refuseWhileLimited(c, limit.failures.take(address), `Too many wrong ${realm} tokens from this address`);
    if (!(await auth.verify(match[1]))) throw new GatewayError(401, "unauthorized", `The ${realm} token is not valid`);
    limit?.failures.giveBack(address);
    await next();
  };
}

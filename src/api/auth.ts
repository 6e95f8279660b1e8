import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../domain/errors.js";
import type { AdminAuth } from "./admin-token.js";

/** `Authorization: Bearer <admin token>` on every admin route. */
export function requireAdmin(auth: AdminAuth): MiddlewareHandler {
  return requireToken(auth, "admin");
}

/** `Authorization: Bearer <token>`, checked by `auth`; `realm` names the token in the challenge and errors. */
export function requireToken(auth: AdminAuth, realm: string): MiddlewareHandler {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      c.header("WWW-Authenticate", `Bearer realm="${realm}"`);
      throw new GatewayError(401, "unauthorized", `Send Authorization: Bearer <${realm} token>`);
    }
    if (!(await auth.verify(match[1]))) throw new GatewayError(401, "unauthorized", `The ${realm} token is not valid`);
    await next();
  };
}

import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../domain/errors.js";
import type { AdminAuth } from "./admin-token.js";

/** `Authorization: Bearer <admin token>` on every admin route. */
export function requireAdmin(auth: AdminAuth): MiddlewareHandler {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      c.header("WWW-Authenticate", 'Bearer realm="admin"');
      throw new GatewayError(401, "unauthorized", "Send Authorization: Bearer <admin token>");
    }
    if (!(await auth.verify(match[1]))) throw new GatewayError(401, "unauthorized", "The admin token is not valid");
    await next();
  };
}

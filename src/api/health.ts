import { Hono } from "hono";
import { errorText } from "../domain/errors.js";
import type { AppDeps } from "./deps.js";
import type { Health } from "./view-schemas.js";

/**
 * `GET /health`: up, and the database answers a read. Open, so it says no more than that; why the database
 * failed goes to the log (`health check failed`).
 */
export function healthRoutes(deps: AppDeps) {
  const app = new Hono();
  app.get("/", async (c) => {
    try {
      await deps.store.ping();
      return c.json({ status: "ok", database: "ok" } satisfies Health);
    } catch (error) {
      deps.log.error("health check failed", { error: errorText(error) });
      return c.json({ status: "unavailable", database: "unavailable" } satisfies Health, 503);
    }
  });
  return app;
}

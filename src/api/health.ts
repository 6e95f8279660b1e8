import { Hono } from "hono";
import { boundedRead } from "./bounded-read.js";
import type { AppDeps } from "./deps.js";
import type { Health } from "./view-schemas.js";

/**
 * `GET /health`: up, and the database answers a read within DATABASE_WAIT_MS, so that a monitor gets a prompt
 * answer while the database is stuck. Open, so it says no more than that; why the database failed goes to
 * the log (`health check failed`).
 */
export function healthRoutes(deps: AppDeps) {
  const app = new Hono();
  const ping = boundedRead(deps, () => deps.store.ping());
  app.get("/", async (c) => {
    const reading = await ping();
    if (reading.ok) return c.json({ status: "ok", database: "ok" } satisfies Health);
    deps.log.error("health check failed", { error: reading.error });
    return c.json({ status: "unavailable", database: "unavailable" } satisfies Health, 503);
  });
  return app;
}

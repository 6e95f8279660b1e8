import { Hono } from "hono";
import { metricsText } from "../metrics/gateway.js";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/registry.js";
import { requireToken } from "./auth.js";
import type { AppDeps } from "./deps.js";

/** `GET /metrics`: Prometheus text; open, or behind its own bearer token (`METRICS_TOKEN`) when one is set. */
export function metricsRoutes(deps: AppDeps) {
  const app = new Hono();
  if (deps.metricsAuth) app.use("/", requireToken(deps.metricsAuth, "metrics"));
  app.get("/", async (c) => {
    // Queue depth is read from the store at each scrape: the one number here that is global on Workers too.
    const depth = await deps.store.deliveries.depth(deps.clock.now());
    return c.body(metricsText(deps.metrics, depth), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}

import { Hono } from "hono";
import { metricsText } from "../metrics/gateway.js";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/registry.js";
import { requireToken } from "./auth.js";
import { boundedRead } from "./bounded-read.js";
import type { AppDeps } from "./deps.js";

/** `GET /metrics`: Prometheus text; open, or behind its own bearer token (`METRICS_TOKEN`) when one is set. */
export function metricsRoutes(deps: AppDeps) {
  const app = new Hono();
  if (deps.metricsAuth) app.use("/", requireToken(deps.metricsAuth, "metrics"));
  // Queue depth is read from the store at each scrape: the one number here that is global on Workers too.
  // A scrape does not wait long for it: the counters matter most while the database is stuck.
  const readDepth = boundedRead(deps, () => deps.store.deliveries.depth(deps.clock.now()));
  // What ingest holds is read from its bounds at each scrape (Node; none on Workers, so no gauge there).
  const ingest = { pending: deps.ingestPending, bodyBytes: deps.ingestBodyBytes };
  app.get("/", async (c) => {
    const depth = await readDepth();
    if (!depth.ok) deps.log.warn("queue depth not read", { error: depth.error });
    return c.body(metricsText(deps.metrics, ingest, depth.ok ? depth.value : null), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}

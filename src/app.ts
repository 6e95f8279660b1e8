import { Hono } from "hono";
import { requireAdmin } from "./api/auth.js";
import { consoleRoutes } from "./console/routes.js";
import { deliveryRoutes } from "./api/deliveries.js";
import type { AppDeps } from "./api/deps.js";
import { errorHandler, notFoundHandler } from "./api/errors.js";
import { eventRoutes } from "./api/events.js";
import { healthRoutes } from "./api/health.js";
import { ADMIN_BODY_LIMIT, limitBody } from "./api/request-body.js";
import { ingestRoutes } from "./api/ingest.js";
import { metricsRoutes } from "./api/metrics.js";
import { openApiDocument } from "./api/openapi.js";
import { presetRoutes } from "./api/presets.js";
import { RateLimiter } from "./api/rate-limit.js";
import { previewRoutes } from "./api/preview.js";
import { sampleRoutes } from "./api/samples.js";
import { sourceRoutes } from "./api/sources.js";
import { webhookRoutes } from "./api/webhooks.js";

export type { AppDeps } from "./api/deps.js";

/** The whole gateway as a web-standard Hono app; each runtime builds it from its own dependencies. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError(errorHandler(deps.log, deps.metrics));
  app.notFound(notFoundHandler);

  app.route("/health", healthRoutes(deps));
  const openApi = openApiDocument();
  app.get("/openapi.json", (c) => c.json(openApi));
  app.route("/metrics", metricsRoutes(deps));
  app.route("/ingest", ingestRoutes(deps));

  const authFailures = new RateLimiter(deps.rateLimits.adminAuthFailures, deps.clock);
  const clientAddress = deps.clientAddress ?? (() => "unknown");
  app.use("/api/*", requireAdmin(deps.adminAuth, { failures: authFailures, clientAddress }), limitBody(ADMIN_BODY_LIMIT));
  app.route("/api/sources", sourceRoutes(deps));
  app.route("/api/webhooks", webhookRoutes(deps));
  app.route("/api/preview", previewRoutes(deps));
  app.route("/api/presets", presetRoutes());
  app.route("/api/samples", sampleRoutes(deps));
  app.route("/api/events", eventRoutes(deps));
  app.route("/api/deliveries", deliveryRoutes(deps));

  app.route("/", consoleRoutes(deps.console));
  return app;
}

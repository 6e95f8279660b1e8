import { Hono } from "hono";
import { deliveryFilterSchema } from "../domain/delivery.js";
import { found, GatewayError, notFound } from "../domain/errors.js";
import { handOver } from "./accept.js";
import type { AppDeps } from "./deps.js";
import { filterOf, pageQuery } from "./list-query.js";
import { retryDelivery } from "./retry.js";
import { deliveryDetail, deliveryView, listView } from "./views.js";

export function deliveryRoutes(deps: AppDeps) {
  const { store } = deps;
  const app = new Hono();
  const load = async (id: string) => found(await store.deliveries.get(id), "delivery", id);

  app.get("/", async (c) => {
    const filter = filterOf(c, deliveryFilterSchema);
    const page = await store.deliveries.list(filter, pageQuery(c));
    return c.json(listView(page.data.map(deliveryView), page.next_cursor));
  });

  app.get("/:id", async (c) => {
    const row = await load(c.req.param("id"));
    return c.json(deliveryDetail(row, await store.deliveries.attempts(row.id)));
  });

  /**
   * Sends a delivery now, with a fresh retry budget (see retryDelivery): a finished one again, or a pending one
   * without waiting for its next attempt (its receiver fixed, say). One being sent is left alone.
   */
  app.post("/:id/retry", async (c) => {
    const row = await load(c.req.param("id"));
    const webhook = found(await store.webhooks.get(row.webhook_id), "webhook", row.webhook_id);
    const retry = await retryDelivery(deps, row, webhook);
    if (retry.outcome === "sending") throw new GatewayError(409, "conflict", `Delivery ${row.id} is being sent, or its next attempt is due within seconds: look again shortly`);
    if (retry.outcome === "render_failed") throw retry.error;
    if (retry.outcome === "event_gone") throw notFound("event", row.event_id);
    if (retry.outcome === "changed") throw new GatewayError(409, "conflict", `Delivery ${row.id} changed meanwhile: it is now ${(await load(row.id)).status}`);
    await handOver(deps, [{ id: row.id, dueAt: retry.delivery.next_attempt_at }]);
    return c.json(deliveryView(retry.delivery), 202);
  });

  return app;
}

import { Hono } from "hono";
import { isoAt } from "../clock.js";
import { deliveryFilterSchema } from "../domain/delivery.js";
import { found, GatewayError } from "../domain/errors.js";
import { renderRuleRequest } from "../delivery/plan.js";
import { canonicalOf } from "../store/events.js";
import type { DeliveryRow } from "../store/schema.js";
import { handOver } from "./accept.js";
import { renderFailed } from "./preview.js";
import type { AppDeps } from "./deps.js";
import { filterOf, pageQuery } from "./http.js";
import { deliveryDetail, deliveryView, listView } from "./views.js";

export function deliveryRoutes(deps: AppDeps) {
  const { store, clock } = deps;
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
   * Sends a delivery now, with a fresh retry budget (the rule's retries as they are now, the backoff starting
   * again from its first wait): a finished one again, or a pending one without waiting
   * for its next attempt (its receiver fixed, say). The same bytes when it was rendered, or rendered anew from
   * the current rule when rendering had failed (say, after fixing the template). One being sent is left alone.
   */
  app.post("/:id/retry", async (c) => {
    const row = await load(c.req.param("id"));
    if (row.status === "delivering") throw new GatewayError(409, "conflict", `Delivery ${row.id} is being sent, or its next attempt is due within seconds: look again shortly`);
    const webhook = found(await store.webhooks.get(row.webhook_id), "webhook", row.webhook_id);
    let request = row.request;
    if (request === null) {
      const event = canonicalOf(found(await store.events.get(row.event_id), "event", row.event_id));
      request = await renderRuleRequest(webhook, event, deps.partials).catch((error) => {
        throw renderFailed(error);
      });
    }
    const now = clock.now();
    const changes: Partial<DeliveryRow> = {
      status: "pending",
      request,
      next_attempt_at: now,
      max_attempts: row.attempt_count + webhook.retries + 1,
      budget_start: row.attempt_count,
      last_error: null,
      delivered_at: null,
      updated_at: isoAt(now),
    };
    // Only as it was read: one the dispatcher took meanwhile is being sent (or was, and waits again with an
    // attempt more): it is not sent twice, and its budget is not counted from attempts it no longer has.
    const updated = await store.deliveries.update(row.id, changes, row);
    if (!updated) throw new GatewayError(409, "conflict", `Delivery ${row.id} changed meanwhile: it is now ${(await load(row.id)).status}`);
    await handOver(deps, [{ id: row.id, dueAt: now }]);
    return c.json(deliveryView(updated), 202);
  });

  return app;
}

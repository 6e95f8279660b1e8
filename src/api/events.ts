import { Hono } from "hono";
import { eventFilterSchema } from "../domain/event.js";
import { found } from "../domain/errors.js";
import { canonicalOf } from "../store/events.js";
import type { AppDeps } from "./deps.js";
import { filterOf, pageQuery } from "./list-query.js";
import { rulesWithoutDelivery } from "./rules-without-delivery.js";
import { eventDetail, eventSummary, listView } from "./views.js";

export function eventRoutes({ store }: AppDeps) {
  const app = new Hono();

  app.get("/", async (c) => {
    const { type, source_id, uniqueid } = filterOf(c, eventFilterSchema);
    const page = await store.events.list({ type, source_id, uniqueid }, pageQuery(c));
    return c.json(listView(page.data.map(eventSummary), page.next_cursor));
  });

  app.get("/:id", async (c) => {
    const id = c.req.param("id");
    const row = found(await store.events.get(id), "event", id);
    const deliveries = await store.deliveries.ofEvent(id);
    return c.json(eventDetail(row, deliveries, await rulesWithoutDelivery(canonicalOf(row), row.received_at, await store.webhooks.list(), deliveries)));
  });

  return app;
}

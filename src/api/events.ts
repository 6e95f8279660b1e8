import { Hono } from "hono";
import { eventFilterSchema } from "../domain/event.js";
import { found } from "../domain/errors.js";
import type { AppDeps } from "./deps.js";
import { filterOf, pageQuery } from "./http.js";
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
    return c.json(eventDetail(row, await store.deliveries.ofEvent(id)));
  });

  return app;
}

import { Hono } from "hono";
import { found } from "../domain/errors.js";
import { allPresets, presetById } from "../presets/registry.js";
import { listView } from "./views.js";

/** `GET /api/presets`: what each preset fills in and which settings (`preset_config`) it needs. */
export function presetRoutes() {
  const app = new Hono();
  app.get("/", (c) => c.json(listView(allPresets())));
  app.get("/:id", (c) => c.json(found(presetById(c.req.param("id")), "preset", c.req.param("id"))));
  return app;
}

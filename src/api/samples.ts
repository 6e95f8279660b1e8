import { Hono } from "hono";
import { isoAt } from "../clock.js";
import { sampleEvents } from "../sources/samples.js";
import type { AppDeps } from "./deps.js";
import { listView } from "./views.js";

/** `GET /api/samples`: a sample event of each source kind, as its adapter makes it of the PBX's payload. */
export function sampleRoutes(deps: AppDeps) {
  const app = new Hono();
  app.get("/", (c) => c.json(listView(sampleEvents(isoAt(deps.clock.now())))));
  return app;
}

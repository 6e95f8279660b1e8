import { Hono } from "hono";
import { found, GatewayError } from "../domain/errors.js";
import { adapterFor } from "../sources/registry.js";
import { acceptEvents } from "./accept.js";
import type { AppDeps } from "./deps.js";
import { INGEST_BODY_LIMIT, limitBody, parseJson, requireJsonContentType } from "./http.js";

/** `POST /ingest/:sourceId`: verify, normalize, commit, then answer 202 with the event ids. */
export function ingestRoutes(deps: AppDeps) {
  const app = new Hono();

  app.post("/:sourceId", limitBody(INGEST_BODY_LIMIT), async (c) => {
    const id = c.req.param("sourceId");
    const source = found(await deps.store.sources.get(id), "source", id);
    if (!source.enabled) throw new GatewayError(403, "source_disabled", `Source ${id} is disabled`);
    const adapter = adapterFor(source.kind);
    if (!adapter) throw new GatewayError(404, "not_found", `Source ${id} has no adapter for kind ${source.kind}`);

    const body = new Uint8Array(await c.req.arrayBuffer());
    if (!(await adapter.verify({ headers: c.req.raw.headers, body }, source.secret))) {
      throw new GatewayError(401, "unauthorized", "The request is not signed with this source's secret");
    }
    requireJsonContentType(c);
    const payload = parseJson(new TextDecoder().decode(body));
    const receivedAt = new Date(deps.clock.now()).toISOString();
    const accepted = await acceptEvents(deps, source, adapter.normalize(payload, receivedAt));

    const answer = ({ event_id, deliveries, duplicate }: (typeof accepted)[number]) =>
      duplicate ? { event_id, deliveries, duplicate } : { event_id, deliveries };
    return c.json(Array.isArray(payload) ? { events: accepted.map(answer) } : answer(accepted[0]), 202);
  });

  return app;
}

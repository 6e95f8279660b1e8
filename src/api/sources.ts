import { Hono, type Context } from "hono";
import { isoAt } from "../clock.js";
import { found, GatewayError, notFound } from "../domain/errors.js";
import { ID_PREFIX, newId, newSecret } from "../domain/ids.js";
import { keepUnlessChanged } from "../domain/mask.js";
import { createSourceSchema, patchSourceSchema } from "../domain/source.js";
import type { Source } from "../store/sources.js";
import type { AppDeps } from "./deps.js";
import { readBody } from "./json-body.js";
import { listView, sourceView } from "./views.js";

export function sourceRoutes({ store, clock, publicOrigin }: AppDeps) {
  const app = new Hono();
  const origin = (c: Context) => publicOrigin?.(c) ?? new URL(c.req.url).origin;
  const load = async (id: string) => found(await store.sources.get(id), "source", id);

  app.get("/", async (c) => {
    const rows = await store.sources.list();
    return c.json(listView(rows.map((row) => sourceView(row, origin(c)))));
  });

  app.post("/", async (c) => {
    const input = await readBody(c, createSourceSchema);
    const now = isoAt(clock.now());
    const source: Source = {
      id: newId(ID_PREFIX.source, clock.now()),
      name: input.name,
      kind: input.kind,
      secret: input.secret ?? newSecret("sk_"),
      enabled: input.enabled,
      created_at: now,
      updated_at: now,
    };
    await store.sources.insert(source);
    return c.json(sourceView(source, origin(c), true), 201);
  });

  app.get("/:id", async (c) => c.json(sourceView(await load(c.req.param("id")), origin(c))));

  app.patch("/:id", async (c) => {
    const patch = await readBody(c, patchSourceSchema);
    const current = await load(c.req.param("id"));
    const secret = patch.secret === undefined ? current.secret : keepUnlessChanged(patch.secret, current.secret);
    const updated = await store.sources.update(current.id, { ...patch, secret, updated_at: isoAt(clock.now()) });
    // Deleted since it was read: nothing was saved.
    if (!updated) throw notFound("source", current.id);
    return c.json(sourceView(updated, origin(c), secret !== current.secret));
  });

  // Not while a rule names it: the rule would then take events from no source, and widening it to all
  // sources (source_ids []) is not for a delete to decide.
  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    const { found, namedBy } = await store.sources.delete(id);
    if (!found) throw notFound("source", id);
    if (namedBy.length) {
      throw new GatewayError(409, "conflict", `Source ${id} is named by webhook ${namedBy.join(", ")}: take it out of their source_ids first, or disable the source`, { webhook_ids: namedBy });
    }
    return c.body(null, 204);
  });

  return app;
}

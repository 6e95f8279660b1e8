import { Hono, type Context } from "hono";
import { isoAt } from "../clock.js";
import { recoverRequestSchema, replayRequestSchema } from "../domain/delivery.js";
import { TEST_SOURCE_ID } from "../domain/event.js";
import { found, GatewayError, notFound } from "../domain/errors.js";
import { ID_PREFIX, newId } from "../domain/ids.js";
import type { Webhook } from "../domain/webhook.js";
import { countUnsent } from "../delivery/deliver.js";
import { UNSENT_REASON } from "../store/webhooks.js";
import { acceptTestEvent } from "./accept.js";
import type { AppDeps } from "./deps.js";
import { readBody, readJson } from "./json-body.js";
import { preview, previewEvent, previewEventSchema } from "./preview.js";
import { recoverFailed } from "./recover.js";
import { replayMissing } from "./replay.js";
import { checkSources, ruleFromInput, ruleWithPatch } from "./rules.js";
import { deliveryView, listView, webhookView } from "./views.js";

/** The rule, if enabled: sending into one turned off (by hand, or by its receiver's 410) would only meet why it was. */
function enabledOnly(webhook: Webhook): Webhook {
  if (webhook.enabled) return webhook;
  throw new GatewayError(409, "conflict", `Webhook ${webhook.id} is disabled: enable it first, once its receiver takes requests again`);
}

export function webhookRoutes(deps: AppDeps) {
  const { store, clock } = deps;
  const app = new Hono();
  const load = async (id: string): Promise<Webhook> => found(await store.webhooks.get(id), "webhook", id);

  app.get("/", async (c) => {
    const rows = await store.webhooks.list();
    return c.json(listView(rows.map((row) => webhookView(row))));
  });

  app.post("/", async (c) => {
    const webhook = await ruleFromInput(deps, await readJson(c));
    // Saved only if the sources it names still exist: one deleted since they were checked is named.
    if (!(await store.webhooks.insert(webhook))) {
      await checkSources(deps, webhook);
      throw new GatewayError(409, "conflict", "A source the webhook names was deleted while it was saved: save it again");
    }
    return c.json(webhookView(webhook, true), 201);
  });

  app.get("/:id", async (c) => c.json(webhookView(await load(c.req.param("id")))));

  app.patch("/:id", async (c) => {
    const current = await load(c.req.param("id"));
    const updated = await ruleWithPatch(deps, current, await readJson(c));
    const unsent = await store.webhooks.replace(updated, current);
    if (!unsent) {
      // A source it now names was deleted since it was checked, or the rule itself was.
      await checkSources(deps, updated);
      throw notFound("webhook", current.id);
    }
    countUnsent(deps, current.id, unsent, UNSENT_REASON.disabled);
    return c.json(webhookView(updated, updated.secret !== current.secret));
  });

  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    const failed = await store.webhooks.delete(id, isoAt(clock.now()));
    if (failed === null) throw notFound("webhook", id);
    countUnsent(deps, id, failed, UNSENT_REASON.deleted);
    return c.body(null, 204);
  });

  /**
   * The event a saved rule's preview or test send is asked for: none means the built-in sample, whether the
   * body is missing or empty (clients often send `Content-Type: application/json` with no data).
   */
  const eventChoice = async (c: Context) => {
    const empty = !(await c.req.text()).trim();
    return previewEvent(deps, empty ? {} : await readBody(c, previewEventSchema.strict()));
  };

  app.post("/:id/preview", async (c) => {
    const webhook = await load(c.req.param("id"));
    return c.json(await preview(deps, webhook, await eventChoice(c)));
  });

  /** Sends an event (the sample unless one is given) through this rule now, whatever its filters say. */
  app.post("/:id/test", async (c) => {
    const webhook = await load(c.req.param("id"));
    const event = await eventChoice(c);
    const testEvent = { ...event, event_id: newId(ID_PREFIX.event, clock.now()), source_id: TEST_SOURCE_ID };
    const deliveryId = await acceptTestEvent(deps, webhook, testEvent);
    return c.json(deliveryView((await store.deliveries.get(deliveryId))!), 202);
  });

  /**
   * Retries the rule's failed deliveries created in a window (after an outage of its receiver, or a 410 that
   * disabled it), a page at a time: the client asks again while `more`. Not on a disabled rule: its receiver
   * answered 410 or was turned off for a reason, which retrying into it would only meet again.
   */
  app.post("/:id/recover", async (c) => {
    const webhook = await load(c.req.param("id"));
    const request = await readBody(c, recoverRequestSchema);
    return c.json(await recoverFailed(deps, enabledOnly(webhook), request), 202);
  });

  /**
   * Sends the rule the events received in a window that it takes now and has no delivery of (it was off, or
   * made since), a page of events at a time: the client asks again while `more`. Not on a disabled rule, as
   * recover.
   */
  app.post("/:id/replay-missing", async (c) => {
    const webhook = await load(c.req.param("id"));
    const request = await readBody(c, replayRequestSchema);
    return c.json(await replayMissing(deps, enabledOnly(webhook), request), 202);
  });

  return app;
}

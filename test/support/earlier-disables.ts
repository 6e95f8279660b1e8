import { expect } from "vitest";
import { callEvent } from "./events.js";
import { createSource, createWebhook, ingest, type GatewayUnderTest } from "./gateway-api.js";
import type { ScriptedReceiver } from "./scripted-receiver.js";

// Rules turned off as a version before the gateway kept when and why (the `disabled` column, migration 0006)
// left them, for the upgrade tests of both runtimes: each makes the rules through the API, takes the column
// and its migration out of the database, migrates again and checks what the rules say.

/**
 * What the migration that adds `disabled` and those after it added, taken out: the database as the version
 * before it left it. Each later migration adds its own undoing here, and to MIGRATIONS_SINCE_DISABLED.
 */
export const BACK_BEFORE_DISABLED = ["ALTER TABLE webhooks DROP COLUMN disabled", "ALTER TABLE deliveries DROP COLUMN budget_start",
  "DROP INDEX deliveries_status",
  "DROP INDEX events_source",
];

/** Migrations from the one that adds `disabled` on, whose records go too. */
export const MIGRATIONS_SINCE_DISABLED = 3;

/**
 * Four rules: one a 410 Gone disabled, one a 410 disabled and renamed since, one turned off by hand, one on.
 * Returns them with the delivery whose attempt got the first one's 410.
 */
export async function rulesTurnedOff(gw: GatewayUnderTest, receiver: ScriptedReceiver) {
  receiver.handler = (request) => ({ status: request.path.startsWith("/gone") ? 410 : 200 });
  const source = await createSource(gw);
  const gone = await createWebhook(gw, { name: "Gone", url: `${receiver.url}/gone`, retries: 0 });
  const renamed = await createWebhook(gw, { name: "Gone too", url: `${receiver.url}/gone-too`, retries: 0 });
  const byHand = await createWebhook(gw, { name: "By hand", url: `${receiver.url}/paused` });
  const on = await createWebhook(gw, { name: "On", url: `${receiver.url}/on` });
  expect((await ingest(gw, source, callEvent())).status).toBe(202);
  await gw.settle();
  gw.clock.advance(1_000);
  expect((await gw.api("PATCH", `/api/webhooks/${renamed.id}`, { name: "Gone, renamed since" })).status).toBe(200);
  expect((await gw.api("PATCH", `/api/webhooks/${byHand.id}`, { enabled: false })).status).toBe(200);
  const [goneDelivery] = (await gw.api("GET", `/api/deliveries?webhook_id=${gone.id}`)).body.data;
  expect(goneDelivery).toMatchObject({ status: "failed", last_status_code: 410 });
  return { gone, renamed, byHand, on, goneDelivery };
}

/**
 * After the upgrade, the rule a 410 disabled says so, from its delivery log; the others show no reason, as
 * nothing tells (a 410's rule changed since may have been enabled and turned off again by hand meanwhile).
 */
export async function expectReasonsAfterUpgrade(gw: GatewayUnderTest, rules: Awaited<ReturnType<typeof rulesTurnedOff>>) {
  const { gone, renamed, byHand, on, goneDelivery } = rules;
  const listed = await gw.api("GET", "/api/webhooks");
  expect(listed.status, JSON.stringify(listed.body)).toBe(200);
  const shown = new Map(listed.body.data.map((w: { id: string }) => [w.id, w]));
  expect(shown.get(gone.id)).toMatchObject({
    enabled: false,
    disabled: { at: goneDelivery.updated_at, reason: "gone", delivery_id: goneDelivery.id, status_code: 410 },
  });
  expect(shown.get(renamed.id)).toMatchObject({ enabled: false, disabled: null });
  expect(shown.get(byHand.id)).toMatchObject({ enabled: false, disabled: null });
  expect(shown.get(on.id)).toMatchObject({ enabled: true, disabled: null });
  // And the upgraded rules work as any: enabled again, forgotten; turned off, by hand now.
  expect((await gw.api("PATCH", `/api/webhooks/${gone.id}`, { enabled: true })).body.disabled).toBeNull();
  expect((await gw.api("PATCH", `/api/webhooks/${on.id}`, { enabled: false })).body.disabled).toMatchObject({ reason: "manual" });
}

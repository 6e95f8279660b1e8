import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { UNFINISHED_STATUSES } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import type { SecretBox } from "../domain/secret-box.js";
import type { Database } from "./database.js";
import { openWebhook, sealWebhook } from "./sealed-rows.js";
import { deliveries, webhooks } from "./schema.js";
import { withSnapshot } from "./table-snapshot.js";

/**
 * Webhook rules; their secrets (signing secret, credential headers, secret preset settings) sealed at rest.
 * With `inMemory`, read once and kept until the next write.
 */
export function webhookQueries(db: Database, box: SecretBox, inMemory: boolean) {
  const queries = webhookTable(db, box);
  if (!inMemory) return queries;
  return withSnapshot(queries, queries.list, (rows) => ({
    get: async (id: string) => (await rows()).find((webhook) => webhook.id === id) ?? null,
    list: rows,
    enabled: async () => (await rows()).filter((webhook) => webhook.enabled).reverse(),
  }));
}

function webhookTable(db: Database, box: SecretBox) {
  const openAll = (rows: unknown[]) => Promise.all((rows as Webhook[]).map((row) => openWebhook(box, row)));
  return {
    async insert(webhook: Webhook): Promise<void> {
      await db.insert(webhooks).values(await sealWebhook(box, webhook));
    },
    async get(id: string): Promise<Webhook | null> {
      const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
      return row ? openWebhook(box, row as Webhook) : null;
    },
    async list(): Promise<Webhook[]> {
      return openAll(await db.select().from(webhooks).orderBy(desc(webhooks.id)));
    },
    /** Oldest first: an event's deliveries are made, and sent, in the order the rules were created. */
    async enabled(): Promise<Webhook[]> {
      return openAll(await db.select().from(webhooks).where(eq(webhooks.enabled, true)).orderBy(asc(webhooks.id)));
    },
    async replace(webhook: Webhook): Promise<void> {
      await db.update(webhooks).set(await sealWebhook(box, webhook)).where(eq(webhooks.id, webhook.id));
    },
    async disable(id: string, nowIso: string): Promise<void> {
      await db.update(webhooks).set({ enabled: false, updated_at: nowIso }).where(eq(webhooks.id, id));
    },
    /** Deletes the rule; its unfinished deliveries fail in the same transaction, so none is left orphaned. */
    async delete(id: string, nowIso: string): Promise<boolean> {
      const [, removed] = await db.batch([
        db
          .update(deliveries)
          .set({ status: "failed", last_error: "webhook deleted", lease_until: null, updated_at: nowIso })
          .where(and(eq(deliveries.webhook_id, id), inArray(deliveries.status, UNFINISHED_STATUSES))),
        db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id }),
      ]);
      return removed.length > 0;
    },
  };
}

import { and, desc, eq, inArray } from "drizzle-orm";
import type { Webhook } from "../domain/webhook.js";
import type { Database } from "./database.js";
import { deliveries, webhooks } from "./schema.js";

const UNFINISHED = ["pending", "delivering"] as const;

export function webhookQueries(db: Database) {
  return {
    async insert(webhook: Webhook): Promise<void> {
      await db.insert(webhooks).values(webhook);
    },
    async get(id: string): Promise<Webhook | null> {
      const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
      return (row as Webhook | undefined) ?? null;
    },
    async list(): Promise<Webhook[]> {
      return (await db.select().from(webhooks).orderBy(desc(webhooks.id))) as Webhook[];
    },
    async enabled(): Promise<Webhook[]> {
      return (await db.select().from(webhooks).where(eq(webhooks.enabled, true))) as Webhook[];
    },
    async replace(webhook: Webhook): Promise<void> {
      await db.update(webhooks).set(webhook).where(eq(webhooks.id, webhook.id));
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
          .where(and(eq(deliveries.webhook_id, id), inArray(deliveries.status, [...UNFINISHED]))),
        db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id }),
      ]);
      return removed.length > 0;
    },
  };
}

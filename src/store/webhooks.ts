import { and, asc, desc, eq, inArray, not, sql, type SQL } from "drizzle-orm";
import { UNFINISHED_STATUSES } from "../domain/delivery.js";
import type { Webhook, WebhookDisabled } from "../domain/webhook.js";
import type { SecretBox } from "../domain/secret-box.js";
import type { Database } from "./database.js";
import { openWebhook, sealWebhook } from "./sealed-rows.js";
import { deliveries, sources, webhooks } from "./schema.js";
import { withSnapshot } from "./table-snapshot.js";

/** Why a rule's deliveries not sent yet failed, as their `last_error` says. */
export const UNSENT_REASON = {
  disabled: "webhook disabled",
  gone: "webhook disabled (410 Gone)",
  deleted: "webhook deleted",
} as const;

/**
 * Deliveries a rule's change failed: how many, and how many of them were being sent (or waited in memory for
 * a retry) under a live lease, whose holder counts them when it finds them failed (see `Ending` in
 * deliveries.ts): an attempt out then may still deliver one, and each delivery is counted once, as it ended.
 */
export interface Unsent {
  failed: number;
  held: number;
}

/** Every source of `ids` exists (in the transaction that asks: a source deleted meanwhile is seen). */
const everySourceExists = (ids: string[]) =>
  sql`not exists (select 1 from json_each(${JSON.stringify(ids)}) as named where named.value not in (select ${sources.id} from ${sources}))`;

const sameIds = (a: string[], b: string[]) => a.length === b.length && a.every((id, i) => id === b[i]);

/** Why a rule is disabled, unless it already was: the first reason stands (a 410 that came after an edit read the rule enabled, say). */
const disabledUnlessAlready = (disabled: WebhookDisabled) =>
  sql`case when ${webhooks.enabled} then ${JSON.stringify(disabled)} else ${webhooks.disabled} end`;

/**
 * Webhook rules; their secrets (signing secret, credential headers, secret preset settings, SQS secret key) sealed at rest.
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
  /**
   * Fails the rule's deliveries not sent yet: it is being deleted or disabled, so no retry of them may go out.
   * One held under a live lease keeps it, as the mark that its holder is to count it.
   */
  const failUnsent = (id: string, reason: string, nowIso: string, saved?: SQL) =>
    db
      .update(deliveries)
      .set({
        status: "failed",
        last_error: reason,
        lease_until: sql`case when ${deliveries.status} = 'delivering' and ${deliveries.lease_until} > ${Date.parse(nowIso)} then ${deliveries.lease_until} end`,
        updated_at: nowIso,
      })
      .where(and(eq(deliveries.webhook_id, id), inArray(deliveries.status, UNFINISHED_STATUSES), saved))
      .returning({ held: deliveries.lease_until });
  const unsent = (failed: Array<{ held: number | null }>): Unsent => ({ failed: failed.length, held: failed.filter((row) => row.held !== null).length });
  return {
    /**
     * Saves a new rule if every source it names exists; false if one does not (a source deleted since it was
     * checked), and nothing is saved. The rule is inserted, then taken back in the same transaction if a
     * source it names is missing: D1 runs no transaction of its own, so the check and the write are one batch.
     */
    async insert(webhook: Webhook): Promise<boolean> {
      const save = db.insert(webhooks).values(await sealWebhook(box, webhook));
      if (!webhook.source_ids.length) {
        await save;
        return true;
      }
      const orphaned = and(eq(webhooks.id, webhook.id), not(everySourceExists(webhook.source_ids)));
      const [, undone] = await db.batch([save, db.delete(webhooks).where(orphaned).returning({ id: webhooks.id })]);
      return undone.length === 0;
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
    /**
     * Saves a changed rule; one being disabled (`previous` was enabled) fails its deliveries not sent yet, at
     * once. `enabled` and why it is off (`disabled`) are written only when the change is to it: a 410 may have
     * disabled the rule since it was read. Returns the deliveries it failed; null if nothing was saved: it names
     * other sources and one of them does not exist (deleted since it was checked), or the rule was deleted meanwhile.
     */
    async replace(webhook: Webhook, previous: Webhook): Promise<Unsent | null> {
      const { enabled: _unchanged, disabled: _why, ...otherFields } = await sealWebhook(box, webhook);
      const toggled = webhook.enabled
        ? { enabled: true, disabled: null }
        : { enabled: false, disabled: webhook.disabled && disabledUnlessAlready(webhook.disabled) };
      const fields = webhook.enabled === previous.enabled ? otherFields : { ...otherFields, ...toggled };
      // What it named before is not checked again: a rule whose source was deleted can still be disabled.
      const named = sameIds(webhook.source_ids, previous.source_ids) ? undefined : everySourceExists(webhook.source_ids);
      const save = db.update(webhooks).set(fields).where(and(eq(webhooks.id, webhook.id), named)).returning({ id: webhooks.id });
      if (!previous.enabled || webhook.enabled) {
        const saved = await save;
        return saved.length || !named ? { failed: 0, held: 0 } : null;
      }
      const [saved, failed] = await db.batch([save, failUnsent(webhook.id, UNSENT_REASON.disabled, webhook.updated_at, named)]);
      return saved.length || !named ? unsent(failed) : null;
    },
    /**
     * After a 410 Gone (`why`): the rule matches no new event, and its deliveries not sent yet fail (returned).
     * `disabledNow` when this disabled it; a rule disabled already keeps its first reason.
     */
    async disable(id: string, why: WebhookDisabled): Promise<Unsent & { disabledNow: boolean }> {
      const [turnedOff, , failed] = await db.batch([
        db.update(webhooks).set({ disabled: why }).where(and(eq(webhooks.id, id), eq(webhooks.enabled, true))).returning({ id: webhooks.id }),
        db.update(webhooks).set({ enabled: false, updated_at: why.at }).where(eq(webhooks.id, id)),
        failUnsent(id, UNSENT_REASON.gone, why.at),
      ]);
      return { ...unsent(failed), disabledNow: turnedOff.length > 0 };
    },
    /**
     * Deletes the rule; its unfinished deliveries fail in the same transaction, so none is left orphaned.
     * Returns those it failed, or null when there was no such rule.
     */
    async delete(id: string, nowIso: string): Promise<Unsent | null> {
      const [failed, removed] = await db.batch([
        failUnsent(id, UNSENT_REASON.deleted, nowIso),
        db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id }),
      ]);
      return removed.length > 0 ? unsent(failed) : null;
    },
  };
}

import { and, asc, eq, gt, isNotNull, sql } from "drizzle-orm";
import { isSensitiveHeader } from "../domain/mask.js";
import { EncryptionKeyError, keyIdOf, type SecretBox } from "../domain/secret-box.js";
import type { Webhook } from "../domain/webhook.js";
import type { Database } from "./database.js";
import { deliveries, settings, sources, webhooks } from "./schema.js";
import { openDelivery, openWebhook, sealDelivery, sealWebhook } from "./sealed-rows.js";
import { settingQueries } from "./settings.js";

// Check that the key opens what the database holds, and seal with it whatever is not sealed with it yet
// (plaintext from before encryption, or values sealed with a previous key). Sources and rules are few: sealed
// at once. Deliveries may be millions, and a Workers invocation may make only so many D1 queries, so they are
// sealed a page at a time from a cursor kept in the database: all of them at a Node start, a page at a Worker
// isolate's start and more at each cron run. The check value is sealed with the new key only once every
// delivery is, so until then a start without the old key is refused.

const KEY_CHECK = "secrets_key_check";
/** `<key id>:<id of the last delivery sealed>`: how far sealing with that key has got (sources and rules done). */
const DELIVERY_CURSOR = "secrets_delivery_cursor";
const PAGE = 100;

export interface Sealing {
  /** Records rewritten by this call. */
  records: number;
  /** Everything is sealed with the current key. */
  complete: boolean;
  /** This call sealed the last of them (the previous key may now be dropped). */
  finished: boolean;
}

/** The id of the key the database's secrets are sealed with; null when none has been used yet. */
export async function sealedWithKeyId(db: Database): Promise<string | null> {
  const check = await settingQueries(db).get(KEY_CHECK);
  return check === null ? null : keyIdOf(check);
}

async function checkKey(box: SecretBox, check: string): Promise<void> {
  try {
    await box.open(check);
  } catch (error) {
    if (!(error instanceof EncryptionKeyError)) throw error;
    throw new EncryptionKeyError(
      `ENCRYPTION_KEY does not open this database's secrets, which are sealed with key ${keyIdOf(check)} ` +
        `(ENCRYPTION_KEY's key is ${box.keyId}). Set ENCRYPTION_KEY to the key in use; to rotate, give the new key first and the old one after a comma.`,
    );
  }
}

/** Whether any sensitive value of the record is not sealed with the current key. */
function needsSealing(box: SecretBox, values: Array<string | undefined>): boolean {
  return values.some((value) => value !== undefined && keyIdOf(value) !== box.keyId);
}

async function sealSources(db: Database, box: SecretBox): Promise<number> {
  let count = 0;
  for (const row of await db.select().from(sources)) {
    if (!needsSealing(box, [row.secret])) continue;
    const secret = await box.seal(await box.open(row.secret));
    // Only if nobody changed the source meanwhile (another Worker isolate): then it is sealed already.
    await db.update(sources).set({ secret }).where(and(eq(sources.id, row.id), eq(sources.updated_at, row.updated_at)));
    count++;
  }
  return count;
}

/** Every rule is rewritten: there are few, and this runs once per key. */
async function sealWebhooks(db: Database, box: SecretBox): Promise<number> {
  const rows = (await db.select().from(webhooks)) as Webhook[];
  for (const row of rows) {
    const { secret, headers, preset_config, sqs } = await sealWebhook(box, await openWebhook(box, row));
    await db.update(webhooks).set({ secret, headers, preset_config, sqs }).where(and(eq(webhooks.id, row.id), eq(webhooks.updated_at, row.updated_at)));
  }
  return rows.length;
}

/** Where sealing deliveries with `box`'s key resumes: null when it has not started (sources and rules first). */
function resumeAfter(cursor: string | null, box: SecretBox): string | null {
  const prefix = `${box.keyId}:`;
  return cursor?.startsWith(prefix) ? cursor.slice(prefix.length) : null;
}

const setting = (db: Database, key: string, value: string) =>
  db.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } });

/** The next page of deliveries with a request, after `after`: each with its request as stored (JSON text). */
function deliveryPage(db: Database, after: string) {
  return db
    .select({ id: deliveries.id, request: deliveries.request, stored: sql<string>`${deliveries.request}` })
    .from(deliveries)
    .where(and(isNotNull(deliveries.request), gt(deliveries.id, after)))
    .orderBy(asc(deliveries.id))
    .limit(PAGE);
}

/**
 * Seals a page of deliveries and moves the cursor past it, in one transaction. A request is rewritten only
 * if it is still the one read: one re-rendered meanwhile ("Retry now") was sealed with the current key.
 */
async function sealDeliveryPage(db: Database, box: SecretBox, page: Awaited<ReturnType<typeof deliveryPage>>): Promise<number> {
  const updates = [];
  for (const row of page) {
    const sensitive = Object.entries(row.request!.headers).filter(([name]) => isSensitiveHeader(name)).map(([, value]) => value);
    if (!needsSealing(box, sensitive)) continue;
    const { request } = await sealDelivery(box, await openDelivery(box, row));
    updates.push(db.update(deliveries).set({ request }).where(and(eq(deliveries.id, row.id), sql`${deliveries.request} = ${row.stored}`)));
  }
  await db.batch([setting(db, DELIVERY_CURSOR, `${box.keyId}:${page[page.length - 1].id}`), ...updates]);
  return updates.length;
}

/**
 * Throws EncryptionKeyError when `box` cannot open the database's secrets. Otherwise seals with its key what
 * is not yet, up to `pages` (at least one) pages of deliveries, resuming where the last call stopped.
 */
export async function sealStoredSecrets(db: Database, box: SecretBox, pages = Infinity): Promise<Sealing> {
  const stored = settingQueries(db);
  const check = await stored.get(KEY_CHECK);
  if (check !== null) {
    await checkKey(box, check);
    if (keyIdOf(check) === box.keyId) return { records: 0, complete: true, finished: false };
  }
  let records = 0;
  let after = resumeAfter(await stored.get(DELIVERY_CURSOR), box);
  if (after === null) {
    records += (await sealSources(db, box)) + (await sealWebhooks(db, box));
    after = "";
  }
  for (let read = 0; read < pages; read++) {
    const page = await deliveryPage(db, after);
    if (page.length > 0) {
      records += await sealDeliveryPage(db, box, page);
      after = page[page.length - 1].id;
    }
    if (page.length < PAGE) {
      await db.batch([setting(db, KEY_CHECK, await box.seal("the key that seals this database's secrets")), db.delete(settings).where(eq(settings.key, DELIVERY_CURSOR))]);
      return { records, complete: true, finished: true };
    }
  }
  return { records, complete: false, finished: false };
}

import { and, asc, eq, gt, isNotNull } from "drizzle-orm";
import { isSensitiveHeader } from "../domain/mask.js";
import { EncryptionKeyError, keyIdOf, type SecretBox } from "../domain/secret-box.js";
import type { Webhook } from "../domain/webhook.js";
import type { Database } from "./database.js";
import { deliveries, sources, webhooks } from "./schema.js";
import { openDelivery, openWebhook, sealDelivery, sealWebhook } from "./sealed-rows.js";
import { settingQueries } from "./settings.js";

// At start: check that the key opens what the database holds, and seal with it whatever is not sealed with
// it yet (plaintext from before encryption, or values sealed with a previous key). A setting sealed with
// the key makes the check one read and the pass a once-per-key event.

const KEY_CHECK = "secrets_key_check";
const PAGE = 200;

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

/** Every rule is rewritten: there are few, and the pass runs once per key. */
async function sealWebhooks(db: Database, box: SecretBox): Promise<number> {
  const rows = (await db.select().from(webhooks)) as Webhook[];
  for (const row of rows) {
    const { secret, headers, preset_config, sqs } = await sealWebhook(box, await openWebhook(box, row));
    await db.update(webhooks).set({ secret, headers, preset_config, sqs }).where(and(eq(webhooks.id, row.id), eq(webhooks.updated_at, row.updated_at)));
  }
  return rows.length;
}

async function sealDeliveries(db: Database, box: SecretBox): Promise<number> {
  let count = 0;
  for (let cursor = ""; ; ) {
    const rows = await db
      .select()
      .from(deliveries)
      .where(and(isNotNull(deliveries.request), gt(deliveries.id, cursor)))
      .orderBy(asc(deliveries.id))
      .limit(PAGE);
    if (rows.length === 0) return count;
    cursor = rows[rows.length - 1].id;
    for (const row of rows) {
      const sensitive = Object.entries(row.request!.headers).filter(([name]) => isSensitiveHeader(name)).map(([, v]) => v);
      if (!needsSealing(box, sensitive)) continue;
      const { request } = await sealDelivery(box, await openDelivery(box, row));
      await db.update(deliveries).set({ request }).where(and(eq(deliveries.id, row.id), eq(deliveries.updated_at, row.updated_at)));
      count++;
    }
  }
}

/**
 * Throws EncryptionKeyError when `box` cannot open the database's secrets; otherwise seals those not yet
 * sealed with its key and returns how many records it rewrote.
 */
export async function sealStoredSecrets(db: Database, box: SecretBox): Promise<number> {
  const settings = settingQueries(db);
  const check = await settings.get(KEY_CHECK);
  if (check !== null) {
    await checkKey(box, check);
    if (keyIdOf(check) === box.keyId) return 0;
  }
  const count = (await sealSources(db, box)) + (await sealWebhooks(db, box)) + (await sealDeliveries(db, box));
  await settings.set(KEY_CHECK, await box.seal("the key that seals this database's secrets"));
  return count;
}

import { and, asc, eq, gt, isNotNull, sql } from "drizzle-orm";
import type { RenderedRequest } from "../domain/delivery.js";
import { firstIdAt, ID_PREFIX } from "../domain/ids.js";
import { EncryptionKeyError, keyIdOf, type SecretBox } from "../domain/secret-box.js";
import type { Webhook } from "../domain/webhook.js";
import type { Database } from "./database.js";
import { deliveries, settings, sources, webhooks } from "./schema.js";
import { openDelivery, openWebhook, requestSecrets, sealDelivery, sealWebhook } from "./sealed-rows.js";
import { settingQueries, settingUpsert } from "./settings.js";

// Check that the key opens what the database holds, and seal with it whatever is not sealed with it yet
// (plaintext from before encryption, or values sealed with a previous key). Sources and rules are few: sealed
// at once. Deliveries may be millions, and a Workers invocation may make only so many D1 queries, so they are
// sealed a page at a time from a cursor kept in the database: all of them at a Node start, a page at a Worker
// isolate's start and more at each cron run. The check value is sealed with the new key only once every
// delivery is, so until then a start without the old key is refused.
//
// While a new secret rolls out on Workers, isolates of the previous version may still be finishing requests
// and sealing with the old key what they write. So there a rotation ends only with a second look, begun once
// `graceMs` has passed since it began, at the sources, the rules and the deliveries written since.

const KEY_CHECK = "secrets_key_check";
/** The cursor of the rotation under way (see `Cursor`). */
const DELIVERY_CURSOR = "secrets_delivery_cursor";
const PAGE = 100;
/** After every delivery id: the scan is done. */
const END = "~";
/** Isolates' clocks may differ this much: the second look starts this far before the rotation began. */
const CLOCK_SKEW_MS = 60_000;

/** How far sealing with a key has got: when the rotation and the current scan began, and the last delivery sealed. */
interface Cursor {
  keyId: string;
  rotationBegan: number;
  scanBegan: number;
  after: string;
}

const cursorText = (cursor: Cursor) => [cursor.keyId, cursor.rotationBegan, cursor.scanBegan, cursor.after].join(":");

/** The cursor of a rotation to `box`'s key: null when none has begun (sources and rules come first). */
function cursorOf(text: string | null, box: SecretBox): Cursor | null {
  const [keyId, rotationBegan, scanBegan, after] = text?.split(":") ?? [];
  return keyId === box.keyId && after !== undefined ? { keyId, rotationBegan: Number(rotationBegan), scanBegan: Number(scanBegan), after } : null;
}

interface SealingOptions {
  /** Pages of deliveries to seal at most (at least one). */
  pages: number;
  nowMs: number;
  /** How long isolates of the previous version may still write with the old key (0 on Node: one process). */
  graceMs: number;
}

interface Sealing {
  /** Records rewritten by this call. */
  records: number;
  /** This call sealed the last of them (the previous key may now be dropped). */
  finished: boolean;
}

/** The id of the key the database's secrets are sealed with; null when none has been used yet. */
export async function sealedWithKeyId(db: Database): Promise<string | null> {
  const check = await settingQueries(db).get(KEY_CHECK);
  return check === null ? null : keyIdOf(check);
}

/** Whether `box` opens the key check (a value sealed with the key the secrets are sealed with). */
async function opensCheck(box: SecretBox, check: string): Promise<boolean> {
  try {
    await box.open(check);
    return true;
  } catch (error) {
    if (error instanceof EncryptionKeyError) return false;
    throw error;
  }
}

/** Whether `box` opens the database's secrets (it does when none is sealed yet). */
export async function opensStoredSecrets(db: Database, box: SecretBox): Promise<boolean> {
  const check = await settingQueries(db).get(KEY_CHECK);
  return check === null || opensCheck(box, check);
}

/** The key given does not open the database's secrets; a runtime that knows where its key came from says so instead. */
export class KeyMismatchError extends EncryptionKeyError {
  constructor(
    readonly sealedWith: string,
    readonly given: string,
  ) {
    super(
      `ENCRYPTION_KEY does not open this database's secrets, which are sealed with key ${sealedWith} ` +
        `(ENCRYPTION_KEY's key is ${given}). Set ENCRYPTION_KEY to the key in use; to rotate, give the new key first and the old one after a comma.`,
    );
  }
}

async function checkKey(box: SecretBox, check: string): Promise<void> {
  if (!(await opensCheck(box, check))) throw new KeyMismatchError(String(keyIdOf(check)), box.keyId);
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
    // Only if its secret is still the one read: one set meanwhile was sealed by whoever set it.
    await db.update(sources).set({ secret }).where(and(eq(sources.id, row.id), eq(sources.secret, row.secret)));
    count++;
  }
  return count;
}

/** Every rule is rewritten: there are few. */
async function sealWebhooks(db: Database, box: SecretBox): Promise<number> {
  const rows = (await db.select().from(webhooks)) as Webhook[];
  for (const row of rows) {
    const { url, secret, headers, preset_config, sqs } = await sealWebhook(box, await openWebhook(box, row));
    await db.update(webhooks).set({ url, secret, headers, preset_config, sqs }).where(and(eq(webhooks.id, row.id), eq(webhooks.updated_at, row.updated_at)));
  }
  return rows.length;
}

const sealSourcesAndRules = async (db: Database, box: SecretBox) => (await sealSources(db, box)) + (await sealWebhooks(db, box));

/** The next page of deliveries with a request, after `after`: each with its request as stored (JSON text). */
function deliveryPage(db: Database, after: string) {
  return db
    .select({ id: deliveries.id, stored: sql<string>`${deliveries.request}` })
    .from(deliveries)
    .where(and(isNotNull(deliveries.request), gt(deliveries.id, after)))
    .orderBy(asc(deliveries.id))
    .limit(PAGE);
}

/**
 * Seals a page of deliveries and moves the cursor past it, in one transaction. A request is rewritten only
 * if it is still the one read: one re-rendered meanwhile ("Retry now") was sealed with the current key.
 */
async function sealDeliveryPage(db: Database, box: SecretBox, page: Awaited<ReturnType<typeof deliveryPage>>, cursor: Cursor): Promise<number> {
  const updates = [];
  for (const row of page) {
    const stored = { request: JSON.parse(row.stored) as RenderedRequest };
    if (!needsSealing(box, requestSecrets(stored.request))) continue;
    const { request } = await sealDelivery(box, await openDelivery(box, stored));
    updates.push(db.update(deliveries).set({ request }).where(and(eq(deliveries.id, row.id), sql`${deliveries.request} = ${row.stored}`)));
  }
  await db.batch([settingUpsert(db, DELIVERY_CURSOR, cursorText(cursor)), ...updates]);
  return updates.length;
}

/** Seals the rest with the key: the check value moves to it, and the cursor goes. */
async function finishRotation(db: Database, box: SecretBox): Promise<void> {
  await db.batch([
    settingUpsert(db, KEY_CHECK, await box.seal("the key that seals this database's secrets")),
    db.delete(settings).where(eq(settings.key, DELIVERY_CURSOR)),
  ]);
}

/**
 * Throws KeyMismatchError when `box` cannot open the database's secrets. Otherwise seals with its key what
 * is not yet, up to `pages` pages of deliveries, resuming where the last call stopped; `finished` when this
 * call sealed the last of them (after the second look, where there is a grace period).
 */
export async function sealStoredSecrets(db: Database, box: SecretBox, { pages, nowMs, graceMs }: SealingOptions): Promise<Sealing> {
  const stored = settingQueries(db);
  const check = await stored.get(KEY_CHECK);
  if (check !== null) {
    await checkKey(box, check);
    if (keyIdOf(check) === box.keyId) return { records: 0, finished: false };
  }
  // Before encryption there was no old key: what an old version writes meanwhile is plaintext, read as it is.
  const grace = check === null ? 0 : graceMs;
  let records = 0;
  const resumed = cursorOf(await stored.get(DELIVERY_CURSOR), box);
  if (resumed === null) records += await sealSourcesAndRules(db, box);
  let cursor: Cursor = resumed ?? { keyId: box.keyId, rotationBegan: nowMs, scanBegan: nowMs, after: "" };
  for (let read = 0; read < pages; read++) {
    if (cursor.after === END) {
      if (nowMs < cursor.rotationBegan + grace) break;
      // The second look: what the previous version may have written since the rotation began.
      records += await sealSourcesAndRules(db, box);
      cursor = { ...cursor, scanBegan: nowMs, after: firstIdAt(ID_PREFIX.delivery, cursor.rotationBegan - CLOCK_SKEW_MS) };
    }
    const page = await deliveryPage(db, cursor.after);
    const scanEnds = page.length < PAGE;
    const scanned: Cursor = { ...cursor, after: scanEnds ? END : page[page.length - 1].id };
    if (page.length) records += await sealDeliveryPage(db, box, page, scanned);
    else await stored.set(DELIVERY_CURSOR, cursorText(scanned));
    if (scanEnds && cursor.scanBegan >= cursor.rotationBegan + grace) {
      await finishRotation(db, box);
      return { records, finished: true };
    }
    cursor = scanned;
  }
  return { records, finished: false };
}

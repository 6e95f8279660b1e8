import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { configFromEnv } from "../config.js";
import type { Database } from "../store/database.js";
import * as schema from "../store/schema.js";
import { EncryptionKeyError } from "../domain/secret-box.js";
import { opensStoredSecrets, sealedWithKeyId } from "../store/stored-secrets.js";
import { keyFileFor, nodeEncryptionKey } from "./node-encryption-key.js";

// `npm run backup -- <file>`: a consistent copy of the embedded database, taken while the gateway runs.
// VACUUM INTO copies one snapshot as a reader (in WAL mode the gateway's commits go on meanwhile): the copy
// holds every event committed before it began, and nothing half-written. Copying the database file itself
// could miss the commits still in the WAL file beside it.

function refuse(message: string): never {
  console.error(message);
  process.exit(2);
}

const target = process.argv[2];
if (!target) refuse("Usage: npm run backup -- <new backup file>");
const config = configFromEnv(process.env);
if (!config.databaseUrl.startsWith("file:")) refuse(`DATABASE_URL is a libSQL server: back it up with the server's own tools`);
const databaseFile = resolve(config.databaseUrl.slice("file:".length));
if (!existsSync(databaseFile)) refuse(`No database at ${databaseFile} (DATABASE_URL): nothing to back up`);
if (existsSync(target)) refuse(`${target} exists already: give the backup a new file name`);
const backupFile = resolve(target);

const source = createClient({ url: `file:${databaseFile}` });
try {
  mkdirSync(dirname(backupFile), { recursive: true });
  await source.execute({ sql: "VACUUM INTO ?", args: [backupFile] });
} catch (error) {
  console.error(`The backup to ${backupFile} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
} finally {
  source.close();
}

/**
 * Where the key that opens the copy's secrets is, looked for as the gateway would from here; or why it is not
 * there (most likely the gateway runs with an ENCRYPTION_KEY this shell has not).
 */
async function keyPlace(db: Database, keyId: string): Promise<{ found: string } | { missing: string }> {
  const file = keyFileFor(config.databaseUrl);
  try {
    const key = await nodeEncryptionKey(config.encryptionKey, config.databaseUrl, keyId);
    if (await opensStoredSecrets(db, key.box)) return { found: key.file ?? "ENCRYPTION_KEY" };
  } catch (error) {
    if (!(error instanceof EncryptionKeyError)) throw error;
  }
  if (config.encryptionKey) return { missing: "not in ENCRYPTION_KEY" };
  return { missing: existsSync(file) ? `not in ${file}` : `ENCRYPTION_KEY is not set, and there is no ${file}` };
}

const copy = createClient({ url: `file:${backupFile}` });
const copyDb = drizzle(copy, { schema }) as unknown as Database;
const keyId = await sealedWithKeyId(copyDb);
const events = (await copy.execute("select count(*) as n from events")).rows[0].n;
const place = keyId && (await keyPlace(copyDb, keyId));
copy.close();
console.log(`Backed up ${databaseFile} to ${backupFile}: ${events} events.`);
if (place && "found" in place) {
  console.log(`Its secrets open only with key ${keyId} (${place.found}): keep a copy of the key too, apart from the backup.`);
} else if (place) {
  console.log(`Its secrets open only with key ${keyId}, which is not here (${place.missing}): it is the key the gateway runs with. Keep a copy of it too, apart from the backup.`);
}

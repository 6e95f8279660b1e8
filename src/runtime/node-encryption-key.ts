import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createSecretBox, EncryptionKeyError, newEncryptionKey, parseEncryptionKeys, type SecretBox } from "../domain/secret-box.js";

// On Node, `npm start` works with no configuration: without ENCRYPTION_KEY the key is a file of its own in
// the data folder (0600), never a row of the database, so a copy of the database alone (a backup, a file
// sent for debugging, a libSQL server) does not carry the key to its secrets.

export interface NodeEncryptionKey {
  box: SecretBox;
  /** Where the key came from: the environment, the key file, or the key file written just now. */
  origin: "ENCRYPTION_KEY" | "file" | "generated";
  file: string | null;
}

/** The key file: beside a database file, or in ./data for a database on a server. */
export function keyFileFor(databaseUrl: string): string {
  const dir = databaseUrl.startsWith("file:") ? dirname(resolve(databaseUrl.slice("file:".length))) : resolve("data");
  return join(dir, "encryption.key");
}

function readKeyFile(file: string): Uint8Array[] {
  try {
    return parseEncryptionKeys(readFileSync(file, "utf8").trim());
  } catch (error) {
    if (error instanceof EncryptionKeyError) throw new EncryptionKeyError(`${file}: ${error.message.replace("ENCRYPTION_KEY", "the key")}`);
    throw error;
  }
}

/**
 * ENCRYPTION_KEY when set; else the key file; else a new key written to the file, but only for a database
 * that holds no sealed secrets yet (`sealedWith` null): a lost key file must not be silently replaced.
 */
export async function nodeEncryptionKey(configured: string | undefined, databaseUrl: string, sealedWith: string | null): Promise<NodeEncryptionKey> {
  if (configured) return { box: await createSecretBox(parseEncryptionKeys(configured)), origin: "ENCRYPTION_KEY", file: null };
  const file = keyFileFor(databaseUrl);
  if (existsSync(file)) return { box: await createSecretBox(readKeyFile(file)), origin: "file", file };
  if (sealedWith !== null) {
    throw new EncryptionKeyError(
      `ENCRYPTION_KEY is not set and ${file} does not exist, but this database's secrets are sealed with key ${sealedWith}: restore the key file or set ENCRYPTION_KEY`,
    );
  }
  const key = newEncryptionKey();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  return { box: await createSecretBox(parseEncryptionKeys(key)), origin: "generated", file };
}

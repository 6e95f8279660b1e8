import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createSecretBox, EncryptionKeyError, newEncryptionKey, parseEncryptionKeys, type SecretBox } from "../domain/secret-box.js";
import type { KeyMismatchError } from "../store/stored-secrets.js";

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

const ROTATE = "to rotate, give the new key first and the old one after a comma";

/**
 * The refusal of a key that does not open the database, naming where it came from: the key file, which no
 * ENCRYPTION_KEY was set to override; or ENCRYPTION_KEY, set over a key file that holds the key in use (as
 * when a gateway first run without it is given one for production).
 */
export async function keyMismatch(
  error: KeyMismatchError,
  key: NodeEncryptionKey,
  databaseUrl: string,
  opens: (box: SecretBox) => Promise<boolean>,
): Promise<EncryptionKeyError> {
  const { sealedWith, given } = error;
  if (key.origin !== "ENCRYPTION_KEY") {
    return new EncryptionKeyError(
      `The key in ${key.file} does not open this database's secrets, which are sealed with key ${sealedWith} (that file's key is ${given}). ` +
        `Put the key in use in that file, or set ENCRYPTION_KEY to it; ${ROTATE}.`,
    );
  }
  const file = keyFileFor(databaseUrl);
  if (!existsSync(file) || !(await opens(await createSecretBox(readKeyFile(file))))) return error;
  return new EncryptionKeyError(
    `ENCRYPTION_KEY does not open this database's secrets, which are sealed with key ${sealedWith} (ENCRYPTION_KEY's key is ${given}); ` +
      `the key in use is in ${file}, which ENCRYPTION_KEY overrides. Unset ENCRYPTION_KEY to go on with that file, or, to move to ` +
      `ENCRYPTION_KEY's key, start once with ENCRYPTION_KEY set to that key, a comma, and the file's key.`,
  );
}

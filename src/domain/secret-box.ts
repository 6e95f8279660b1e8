import { aesGcmDecrypt, aesGcmEncrypt, fromBase64, importAesKey, randomBytes, sha256Hex, toBase64 } from "./crypto.js";

// Secrets at rest: `enc:v1:<key id>:<base64 of IV + AES-256-GCM ciphertext>`. The key id names the key that
// sealed a value, so that keys can be rotated; a value without the prefix is plaintext written before
// encryption existed, read as it is until the start-up pass seals it.

const SEALED = /^enc:v1:([0-9a-f]{8}):([A-Za-z0-9+/]+={0,2})$/;
const KEY_BYTES = 32;
/** Opened values remembered per box (the process holds them in plaintext while it uses them anyway). */
const MAX_REMEMBERED = 1_000;

/** A key that is missing, malformed or not the one the data was sealed with: the gateway cannot start. */
export class EncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EncryptionKeyError";
  }
}

export interface SecretBox {
  /** The id of the key that seals: the first of `ENCRYPTION_KEY`. */
  readonly keyId: string;
  seal(plaintext: string): Promise<string>;
  /** The plaintext of a sealed value; a value that is not sealed is returned as it is. */
  open(stored: string): Promise<string>;
}

/** The id of the key that sealed `value`, or null when it is plaintext. */
export function keyIdOf(value: string): string | null {
  return SEALED.exec(value)?.[1] ?? null;
}

/** A new key in the form `ENCRYPTION_KEY` takes (what `openssl rand -base64 32` prints). */
export function newEncryptionKey(): string {
  return toBase64(randomBytes(KEY_BYTES));
}

/** `ENCRYPTION_KEY`: one or more comma-separated keys of 32 bytes in base64; the first seals, all open. */
export function parseEncryptionKeys(text: string): Uint8Array[] {
  const keys = text.split(",").map((part) => part.trim()).filter(Boolean);
  if (keys.length === 0) throw new EncryptionKeyError("ENCRYPTION_KEY is empty");
  return keys.map((key, index) => {
    const bytes = /^[A-Za-z0-9+/_-]+={0,2}$/.test(key) ? fromBase64(key) : null;
    if (bytes?.length !== KEY_BYTES) {
      const which = keys.length > 1 ? `key ${index + 1} of ENCRYPTION_KEY` : "ENCRYPTION_KEY";
      throw new EncryptionKeyError(`${which} must be ${KEY_BYTES} bytes in base64, e.g. the output of \`openssl rand -base64 32\``);
    }
    return bytes;
  });
}

/** What is wrong with an `ENCRYPTION_KEY` value, or null when it is well formed. */
export function encryptionKeyProblem(text: string): string | null {
  try {
    parseEncryptionKeys(text);
    return null;
  } catch (error) {
    if (error instanceof EncryptionKeyError) return error.message;
    throw error;
  }
}

/** The key's public name: the start of its SHA-256, which tells keys apart without revealing them. */
async function keyIdFor(key: Uint8Array): Promise<string> {
  return (await sha256Hex(key)).slice(0, 8);
}

export async function createSecretBox(keys: Uint8Array[]): Promise<SecretBox> {
  const ring = new Map<string, CryptoKey>();
  for (const key of keys) ring.set(await keyIdFor(key), await importAesKey(key));
  const [keyId] = ring.keys();
  const sealing = ring.get(keyId)!;
  // Ingest reads every enabled rule: remembering what was opened spares a decryption per secret per event.
  const opened = new Map<string, string>();
  return {
    keyId,
    async seal(plaintext) {
      return `enc:v1:${keyId}:${toBase64(await aesGcmEncrypt(sealing, plaintext))}`;
    },
    async open(stored) {
      const match = SEALED.exec(stored);
      if (!match) return stored;
      const known = opened.get(stored);
      if (known !== undefined) return known;
      const key = ring.get(match[1]);
      if (!key) {
        throw new EncryptionKeyError(
          `a secret in the database was sealed with key ${match[1]}, which ENCRYPTION_KEY does not hold (it holds ${[...ring.keys()].join(", ")})`,
        );
      }
      let plaintext: string;
      try {
        plaintext = await aesGcmDecrypt(key, fromBase64(match[2])!);
      } catch {
        throw new EncryptionKeyError(`a secret sealed with key ${match[1]} failed its integrity check: the stored value was altered`);
      }
      if (opened.size >= MAX_REMEMBERED) opened.delete(opened.keys().next().value!);
      opened.set(stored, plaintext);
      return plaintext;
    },
  };
}

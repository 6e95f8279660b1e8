// Web Crypto, so that signing and verification run unchanged on Node and in workerd (Node lends its faster
// HMAC: see useRuntimeHmac).

const encoder = new TextEncoder();

type KeyMaterial = string | Uint8Array;

function bytesOf(data: KeyMaterial): Uint8Array<ArrayBuffer> {
  return typeof data === "string" ? encoder.encode(data) : new Uint8Array(data);
}

/** Imported HMAC keys by secret: every delivery of a rule is signed with the same one. */
const hmacKeys = new Map<string, Promise<CryptoKey>>();
const MAX_HMAC_KEYS = 256;

function hmacKey(key: KeyMaterial): Promise<CryptoKey> {
  const name = typeof key === "string" ? `text:${key}` : `bytes:${String.fromCharCode(...key)}`;
  let cryptoKey = hmacKeys.get(name);
  if (!cryptoKey) {
    if (hmacKeys.size >= MAX_HMAC_KEYS) hmacKeys.delete(hmacKeys.keys().next().value!);
    cryptoKey = crypto.subtle.importKey("raw", bytesOf(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(name, cryptoKey);
    cryptoKey.catch(() => hmacKeys.delete(name));
  }
  return cryptoKey;
}

/** HMAC-SHA256 computed by the runtime itself. */
type Hmac = (key: KeyMaterial, message: KeyMaterial) => Uint8Array;

/**
 * Set by a runtime whose own HMAC is cheaper than WebCrypto's (Node's is synchronous, about a fifth of the CPU,
 * and every delivery is signed); WebCrypto otherwise.
 */
let runtimeHmac: Hmac | null = null;

export function useRuntimeHmac(hmac: Hmac): void {
  runtimeHmac = hmac;
}

export async function hmacSha256(key: KeyMaterial, message: KeyMaterial): Promise<Uint8Array> {
  if (runtimeHmac) return runtimeHmac(key, message);
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(key), bytesOf(message)));
}

export async function sha256Hex(data: KeyMaterial): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytesOf(data))));
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Decodes standard or URL-safe base64; null when the text is not base64. */
export function fromBase64(text: string): Uint8Array | null {
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** Compares in time that depends only on the lengths, so a signature cannot be guessed byte by byte. */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  let diff = left.length ^ right.length;
  for (let i = 0; i < Math.max(left.length, right.length); i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return diff === 0;
}

const AES_IV_BYTES = 12;

/** An AES-256-GCM key from 32 raw bytes, usable only to encrypt and decrypt. */
export function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bytesOf(raw), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/** AES-GCM under a fresh random 96-bit IV: the IV followed by the ciphertext and its tag. */
export async function aesGcmEncrypt(key: CryptoKey, plaintext: string): Promise<Uint8Array> {
  const iv = randomBytes(AES_IV_BYTES);
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: bytesOf(iv) }, key, encoder.encode(plaintext)));
  const out = new Uint8Array(iv.length + ciphertext.length);
  out.set(iv);
  out.set(ciphertext, iv.length);
  return out;
}

/** The plaintext of `aesGcmEncrypt`'s output; throws when the key is wrong or the bytes were altered. */
export async function aesGcmDecrypt(key: CryptoKey, sealed: Uint8Array): Promise<string> {
  const iv = bytesOf(sealed.subarray(0, AES_IV_BYTES));
  const plaintext = await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, bytesOf(sealed.subarray(AES_IV_BYTES)));
  return new TextDecoder().decode(plaintext);
}

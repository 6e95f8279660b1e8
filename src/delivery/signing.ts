import { fromBase64, hmacSha256, toBase64, toHex } from "../domain/crypto.js";
import type { Signing } from "../domain/webhook.js";

interface SigningInput {
  signing: Signing;
  secret: string;
  /** The idempotency key: the delivery id, the same on every retry. */
  messageId: string;
  timestampSeconds: number;
  body: string;
}

/** The header that carries the signature, for each signing that has one. */
export const SIGNATURE_HEADER = { standard: "webhook-signature", "hmac-hex": "x-signature" } as const;

/** The headers `signatureHeaders` sets for each signing, lower-case. */
export const SIGNED_HEADERS: Readonly<Record<Signing, readonly string[]>> = {
  standard: ["webhook-id", "webhook-timestamp", SIGNATURE_HEADER.standard],
  "hmac-hex": ["webhook-id", SIGNATURE_HEADER["hmac-hex"]],
  none: ["webhook-id"],
};

/** The last secret decoded: a rule signs each of its deliveries with the same one. */
let lastKey = { secret: "", key: "" as Uint8Array | string };

/** Standard Webhooks keys with the bytes after `whsec_`; any other secret is used as its UTF-8 bytes. */
function standardKey(secret: string): Uint8Array | string {
  if (!secret.startsWith("whsec_")) return secret;
  if (lastKey.secret !== secret) lastKey = { secret, key: fromBase64(secret.slice("whsec_".length)) ?? secret };
  return lastKey.key;
}

/** The headers that identify and sign one attempt. Every request carries `webhook-id`, whatever the signing. */
export async function signatureHeaders(input: SigningInput): Promise<Record<string, string>> {
  const headers: Record<string, string> = { "webhook-id": input.messageId };
  if (input.signing === "standard") {
    const timestamp = String(input.timestampSeconds);
    const signed = `${input.messageId}.${timestamp}.${input.body}`;
    headers["webhook-timestamp"] = timestamp;
    headers[SIGNATURE_HEADER.standard] = `v1,${toBase64(await hmacSha256(standardKey(input.secret), signed))}`;
  } else if (input.signing === "hmac-hex") {
    headers[SIGNATURE_HEADER["hmac-hex"]] = toHex(await hmacSha256(input.secret, input.body));
  }
  return headers;
}

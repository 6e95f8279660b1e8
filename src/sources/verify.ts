import { hmacSha256, timingSafeEqual, toHex } from "../domain/crypto.js";
import type { InboundRequest } from "./adapter.js";

/** `x-signature`: hex HMAC-SHA256 of the raw body keyed by the secret (Wildix's convention). */
export async function hasBodySignature(request: InboundRequest, secret: string): Promise<boolean> {
  const given = request.headers.get("x-signature");
  if (!given) return false;
  const expected = toHex(await hmacSha256(secret, request.body));
  return timingSafeEqual(given.trim().toLowerCase(), expected);
}

/** `Authorization: Bearer <secret>`. */
function hasBearerSecret(request: InboundRequest, secret: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "");
  return match !== null && timingSafeEqual(match[1].trim(), secret);
}

/** Either proof: a bearer secret or a body signature. */
export async function hasBearerOrSignature(request: InboundRequest, secret: string): Promise<boolean> {
  return hasBearerSecret(request, secret) || (await hasBodySignature(request, secret));
}

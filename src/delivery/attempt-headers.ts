import type { RenderedRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import { signatureHeaders } from "./signing.js";

/**
 * `headers` with `added` set over them, names compared case-insensitively: `Webhook-Id` and `webhook-id` are
 * one header, which Node would send as two lines and Workers as one joined value.
 */
export function withHeaders(headers: Record<string, string>, added: Record<string, string>): Record<string, string> {
  const replaced = new Set(Object.keys(added).map((name) => name.toLowerCase()));
  const kept = Object.entries(headers).filter(([name]) => !replaced.has(name.toLowerCase()));
  return Object.fromEntries([...kept, ...Object.entries(added)]);
}

/**
 * The headers one attempt sends, the same for the preview and the send: the request's, then the gateway's
 * `webhook-id` and signature, which replace a rule header of the same name (saving one is refused, but a rule
 * may predate that). An SQS message has no headers of its own: these are its attributes.
 */
export async function attemptHeaders(
  request: Pick<RenderedRequest, "headers" | "body">,
  rule: Pick<Webhook, "signing" | "secret">,
  messageId: string,
  nowMs: number,
): Promise<Record<string, string>> {
  const signature = await signatureHeaders({
    signing: rule.signing,
    secret: rule.secret,
    messageId,
    timestampSeconds: Math.floor(nowMs / 1000),
    body: request.body ?? "",
  });
  return withHeaders(request.headers, signature);
}

import type { RenderedRequest } from "../domain/delivery.js";
import { isSensitiveHeader } from "../domain/mask.js";
import type { Webhook } from "../domain/webhook.js";
import { secretPlaceholder } from "../presets/secrets.js";
import { sentHeaderValue } from "../render/request.js";

// A credential header a rule gives as a fixed value (`Authorization: Bearer ...`, `X-Api-Key: ...`: a sensitive
// name, no template) is the rule's, not the event's. Like a preset's secret settings it is rendered as a
// placeholder (with the request's mark, and the destination stamp that keeps it from going where the rule no
// longer sends) and filled in from the rule as it is when each attempt is sent: an integrator who rotates a
// revoked key edits the rule, and the deliveries that failed or wait for a retry go out with the new key, their
// other bytes as rendered. A header written with a template renders the event, and is kept as rendered.

/** What a credential header's placeholder is named: the header it stands in says which of the rule's it is. */
export const CREDENTIAL_HEADER = "header";

type CredentialRule = Pick<Webhook, "headers" | "transport">;

/** The rule's fixed credential headers, by lower-case name (names ignore case), each as it is sent. An SQS message has no headers. */
export function fixedCredentials(rule: CredentialRule): Map<string, string> {
  return fixedOf(rule, fixedByRule, () => {
    if (rule.transport === "sqs") return new Map();
    const fixed = Object.entries(rule.headers).filter(([name, template]) => isSensitiveHeader(name) && !template.includes("{{"));
    // A template without an expression renders as itself.
    return new Map(fixed.map(([name, template]) => [name.toLowerCase(), sentHeaderValue(template)]));
  });
}

const fixedByRule = new WeakMap<object, Map<string, string>>();

/**
 * What `find` gives for the rule, worked out once per rule object: every render and attempt asks, and a rule
 * is one object until it is edited (an edit makes a new one, as the store's snapshot of rules does).
 */
export function fixedOf<T>(rule: object, cache: WeakMap<object, T>, find: () => T): T {
  let found = cache.get(rule);
  if (found === undefined) {
    found = find();
    cache.set(rule, found);
  }
  return found;
}

/** The rendered request with each of the rule's fixed credential headers as a placeholder bearing `mark`. */
export function withCredentialPlaceholders(request: RenderedRequest, rule: CredentialRule, mark: string): RenderedRequest {
  const fixed = fixedCredentials(rule);
  const placeholder = secretPlaceholder(CREDENTIAL_HEADER, mark);
  const headers = Object.entries(request.headers).map(([name, value]) => [name, fixed.has(name.toLowerCase()) ? placeholder : value]);
  return { ...request, headers: Object.fromEntries(headers) };
}

/** The request's headers that hold a credential placeholder of its own, filled in when sent. */
function placeholderHeaders(request: RenderedRequest): string[] {
  if (request.secrets_mark === undefined) return [];
  const placeholder = secretPlaceholder(CREDENTIAL_HEADER, request.secrets_mark);
  return Object.keys(request.headers).filter((name) => request.headers[name] === placeholder);
}

/** A credential header of the request that the rule no longer gives as a fixed value (removed, or written with a template since); null if none. */
export function changedCredentialHeader(request: RenderedRequest, rule: CredentialRule): string | null {
  const fixed = fixedCredentials(rule);
  return placeholderHeaders(request).find((name) => !fixed.has(name.toLowerCase())) ?? null;
}

/**
 * Whether the request's credential headers are other than the fixed ones the rule gives now: one was removed
 * or added since it was made, or it was made before they were filled in when sent (and holds them as rendered).
 */
export function otherCredentialHeaders(request: RenderedRequest, rule: CredentialRule): boolean {
  const fixed = fixedCredentials(rule);
  const held = placeholderHeaders(request).map((name) => name.toLowerCase());
  return held.length !== fixed.size || held.some((name) => !fixed.has(name));
}

/** The request with its credential headers filled in from the rule as it is now; one it no longer gives stays a placeholder (see changedCredentialHeader). */
export function withRuleHeaderCredentials(request: RenderedRequest, rule: CredentialRule): RenderedRequest {
  const names = placeholderHeaders(request);
  if (names.length === 0) return request;
  const fixed = fixedCredentials(rule);
  const headers = { ...request.headers };
  for (const name of names) headers[name] = fixed.get(name.toLowerCase()) ?? headers[name];
  return { ...request, headers };
}

import { toHex } from "../domain/crypto.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { credentialParams } from "../domain/mask.js";
import { fixedOf } from "./credential-headers.js";
import { paramName, withParamValues } from "../domain/url-query.js";
import type { Webhook } from "../domain/webhook.js";
import { secretPlaceholder } from "../presets/secrets.js";

// A credential a rule writes as a fixed value in its URL's query (`?api_key=k-123`) is the rule's, as a fixed
// credential header is (credential-headers.ts): it is rendered as a placeholder, and filled in from the rule as
// it is when each attempt is sent, so that a rotated key reaches the deliveries that wait or failed, and the
// stored request and the delivery log never hold it. The placeholder names the parameter (in hex: placeholder
// names are letters, digits and underscores) and which of that name it is.

type CredentialRule = Pick<Webhook, "url" | "transport">;

const PREFIX = "query_";

/** The placeholder name of the `index`-th credential parameter named `name` (as written). */
const placeholderName = (name: string, index: number) => `${PREFIX}${toHex(new TextEncoder().encode(name))}_${index}`;

/** The parameter a placeholder name stands for, as it reads. */
function paramOf(placeholder: string): string {
  const hex = placeholder.slice(PREFIX.length, placeholder.lastIndexOf("_"));
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  return paramName(new TextDecoder().decode(bytes));
}

/** The URL template's credential parameters, each with its placeholder name. An SQS queue URL has none. */
function namedCredentials(url: string, transport: Webhook["transport"]) {
  if (transport === "sqs") return [];
  const seen = new Map<string, number>();
  return credentialParams(url, true).map((param) => {
    const index = seen.get(param.name) ?? 0;
    seen.set(param.name, index + 1);
    return { param, placeholder: placeholderName(param.name, index) };
  });
}

/** A fixed value as the rendered URL carries it: as URL parsing writes a query (a space as %20, and so on). */
const sentValue = (value: string) => new URL(`http://h/?${value}`).search.slice(1);

/** The rule's fixed query credentials by placeholder name, each as it is sent. */
export function fixedQueryCredentials(rule: CredentialRule): Map<string, string> {
  return fixedOf(rule, fixedByRule, () => new Map(namedCredentials(rule.url, rule.transport).map(({ param, placeholder }) => [placeholder, sentValue(param.value)])));
}

const fixedByRule = new WeakMap<object, Map<string, string>>();

/** The rule's URL template with each fixed query credential as its placeholder bearing `mark`, to be rendered. */
export function withQueryPlaceholders(rule: CredentialRule, mark: string): string {
  const named = namedCredentials(rule.url, rule.transport);
  const byParam = new Map(named.map(({ param, placeholder }) => [param, secretPlaceholder(placeholder, mark)]));
  return withParamValues(rule.url, [...byParam.keys()], (param) => byParam.get(param)!);
}

/** The names of the query credential placeholders `fixedQueryCredentials` gives, for checking none was changed. */
export function queryPlaceholderNames(rule: CredentialRule): string[] {
  return [...fixedQueryCredentials(rule).keys()];
}

/** The query credential placeholders of the request's own URL, by name. */
function placeholdersIn(request: RenderedRequest): string[] {
  if (request.secrets_mark === undefined) return [];
  const own = new RegExp(`__SECRET__${request.secrets_mark}__(${PREFIX}[0-9a-f]+_\\d+)__`, "g");
  return [...new Set([...request.url.matchAll(own)].map((match) => match[1]))];
}

/** A query credential of the request that the rule no longer gives as a fixed value (removed, renamed, or written with a template since), as it reads; null if none. */
export function changedQueryCredential(request: RenderedRequest, rule: CredentialRule): string | null {
  const fixed = fixedQueryCredentials(rule);
  const changed = placeholdersIn(request).find((name) => !fixed.has(name));
  return changed === undefined ? null : paramOf(changed);
}

/** Whether the request's query credentials are other than the fixed ones the rule gives now (see otherCredentialHeaders). */
export function otherQueryCredentials(request: RenderedRequest, rule: CredentialRule): boolean {
  const fixed = fixedQueryCredentials(rule);
  const held = placeholdersIn(request);
  return held.length !== fixed.size || held.some((name) => !fixed.has(name));
}

/** The request with its query credentials filled in from the rule as it is now; one it no longer gives stays a placeholder (see changedQueryCredential). */
export function withRuleQueryCredentials(request: RenderedRequest, rule: CredentialRule): RenderedRequest {
  const names = placeholdersIn(request);
  if (names.length === 0) return request;
  const fixed = fixedQueryCredentials(rule);
  let url = request.url;
  for (const name of names) {
    const value = fixed.get(name);
    if (value !== undefined) url = url.split(secretPlaceholder(name, request.secrets_mark!)).join(value);
  }
  return { ...request, url };
}

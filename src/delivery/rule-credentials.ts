import type { RenderedRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import { changedCredentialHeader, otherCredentialHeaders, withRuleHeaderCredentials } from "./credential-headers.js";
import { changedQueryCredential, otherQueryCredentials, withRuleQueryCredentials } from "./credential-query.js";

// A rule's fixed credentials, in its headers (credential-headers.ts) and in its URL's query
// (credential-query.ts), as an attempt, a retry by hand and preview take them: all together.

type CredentialRule = Pick<Webhook, "url" | "headers" | "transport">;

/** The request with its fixed credentials filled in from the rule as it is now. */
export function withRuleCredentials(request: RenderedRequest, rule: CredentialRule): RenderedRequest {
  return withRuleQueryCredentials(withRuleHeaderCredentials(request, rule), rule);
}

/** A fixed credential of the request that the rule no longer gives as one, named (`credential header X`, `query parameter y`); null if none. */
export function changedCredential(request: RenderedRequest, rule: CredentialRule): string | null {
  const header = changedCredentialHeader(request, rule);
  if (header !== null) return `credential header ${header}`;
  const param = changedQueryCredential(request, rule);
  return param === null ? null : `query parameter ${param}`;
}

/** Whether the request holds other fixed credentials than the rule gives now (added, removed, or held as rendered). */
export function otherCredentials(request: RenderedRequest, rule: CredentialRule): boolean {
  return otherCredentialHeaders(request, rule) || otherQueryCredentials(request, rule);
}

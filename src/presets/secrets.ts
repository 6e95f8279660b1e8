import type { RenderedRequest } from "../domain/delivery.js";
import { escaperFor } from "../render/handlebars/index.js";
import { escapeModeFor } from "../render/request.js";

// A secret setting renders as a placeholder of letters, digits and underscores, which every escape mode
// leaves intact. The stored request, the delivery log and previews therefore never hold the secret; the
// placeholder is replaced by the value, escaped for where it stands, only when an attempt is sent.

const PLACEHOLDER = /__SECRET__([a-z][a-z0-9_]*)__/g;

export function secretPlaceholder(name: string): string {
  return `__SECRET__${name}__`;
}

function replaceIn(text: string, values: Record<string, string>, escape: (value: string) => string): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (name in values ? escape(values[name]) : whole));
}

function contentTypeOf(request: RenderedRequest): string {
  const entry = Object.entries(request.headers).find(([name]) => name.toLowerCase() === "content-type");
  return entry?.[1] ?? "";
}

/** The request with secret placeholders replaced by their values: URL-encoded in the URL, escaped for the body's type. */
export function revealSecrets(request: RenderedRequest, values: Record<string, string>): RenderedRequest {
  if (Object.keys(values).length === 0) return request;
  const bodyEscape = escaperFor(escapeModeFor(contentTypeOf(request)));
  return {
    ...request,
    url: replaceIn(request.url, values, encodeURIComponent),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, replaceIn(v, values, (s) => s)])),
    body: request.body === null ? null : replaceIn(request.body, values, (s) => (bodyEscape ? bodyEscape(s) : s)),
  };
}

/** The request as shown to people: every secret placeholder as `****`. */
export function maskSecretRefs(request: RenderedRequest): RenderedRequest {
  const mask = (text: string) => text.replace(PLACEHOLDER, "****");
  return {
    ...request,
    url: mask(request.url),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, mask(v)])),
    body: request.body === null ? null : mask(request.body),
  };
}

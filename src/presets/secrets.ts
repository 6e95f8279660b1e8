import { randomBytes, toHex } from "../domain/crypto.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { escaperFor, type EscapeMode } from "../render/handlebars/index.js";

// A secret setting renders as a placeholder of letters, digits and underscores, which every escape mode
// leaves intact. The stored request, the delivery log and previews therefore never hold the secret; the
// placeholder is replaced by the value, escaped for where it stands, only when an attempt is sent.
// Each render marks its placeholders with a random mark, kept with the request: only those are filled in,
// so that an event whose text holds a placeholder (a caller name set to `__SECRET__client_secret__`) sends
// that text, not the secret. A request stored before marks has none, and its placeholders are unmarked.

// The name ends at the first `__` (no setting's name has one), so text joined after a placeholder (`_1`, `__v2`)
// stays text: a longer name would match no setting, and the placeholder would go out as it is.
const PLACEHOLDER = /__SECRET__(?:([0-9a-f]{24})__)?([a-z][a-z0-9_]*?)__/g;

/** A new mark for one render's placeholders: 96 random bits, which no event can guess ahead of it. */
export function newPlaceholderMark(): string {
  return toHex(randomBytes(12));
}

export function secretPlaceholder(name: string, mark: string): string {
  return `__SECRET__${mark}__${name}__`;
}

function replaceIn(text: string, values: Record<string, string>, escape: (value: string) => string, mark: string | undefined): string {
  return text.replace(PLACEHOLDER, (whole, found: string | undefined, name: string) =>
    found === mark && Object.hasOwn(values, name) ? escape(values[name]) : whole,
  );
}

/**
 * The request with secret placeholders replaced by their values: URL-encoded in the URL, and in the body
 * escaped as the body's own values were rendered (`bodyEscape`, from the rule, not from a Content-Type header
 * the rule may set to something else).
 */
export function revealSecrets(request: RenderedRequest, values: Record<string, string>, bodyEscapeMode: EscapeMode): RenderedRequest {
  if (Object.keys(values).length === 0) return request;
  const bodyEscape = escaperFor(bodyEscapeMode);
  const mark = request.secrets_mark;
  return {
    ...request,
    url: replaceIn(request.url, values, encodeURIComponent, mark),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, replaceIn(v, values, (s) => s, mark)])),
    body: request.body === null ? null : replaceIn(request.body, values, (s) => (bodyEscape ? bodyEscape(s) : s), mark),
  };
}

/** What an expression or helper leaves of a placeholder it changed: 8 characters of its mark, in any case, cut anywhere. */
function markRunsOf(mark: string): string[] {
  return Array.from({ length: mark.length - 7 }, (_, start) => mark.slice(start, start + 8));
}

/** Or a run of its base64, whatever the bytes around it. */
function base64RunsOf(mark: string): string[] {
  const runs = [0, 1, 2].map((offset) => btoa("_".repeat(offset) + mark).slice(4, 20));
  return [...runs, ...runs.map((run) => run.replace(/\+/g, "-").replace(/\//g, "_"))];
}

/**
 * Whether the text holds what is left of a placeholder changed (re-cased, cut, base64-encoded, renamed): it
 * could not be filled in when sent. `names` are the secret settings a placeholder may name.
 */
function hasAlteredPlaceholder(text: string, mark: string, names: ReadonlySet<string>): boolean {
  const rest = text.replace(PLACEHOLDER, (whole, found: string | undefined, name: string) => (found === mark && names.has(name) ? "" : whole));
  const lower = rest.toLowerCase();
  return markRunsOf(mark).some((run) => lower.includes(run)) || base64RunsOf(mark).some((run) => rest.includes(run));
}

/** Where in the request a secret placeholder was changed before being sent: "url", "headers.<name>" or "body"; null if nowhere. */
export function alteredSecretIn(request: RenderedRequest, mark: string, names: ReadonlySet<string>): string | null {
  if (hasAlteredPlaceholder(request.url, mark, names)) return "url";
  const header = Object.entries(request.headers).find(([, value]) => hasAlteredPlaceholder(value, mark, names));
  if (header) return `headers.${header[0]}`;
  return request.body !== null && hasAlteredPlaceholder(request.body, mark, names) ? "body" : null;
}

/** The request as shown to people: each of its secret placeholders as `****`. */
export function maskSecretRefs(request: RenderedRequest): RenderedRequest {
  // Only this render's own placeholders: text of the event shaped like one is shown as the text that is sent.
  // A request stored before marks shows its placeholders' names, which hold no secret.
  const mark = request.secrets_mark;
  if (mark === undefined) return request;
  const mask = (text: string) => text.replace(PLACEHOLDER, (whole, found: string | undefined) => (found === mark ? "****" : whole));
  return {
    ...request,
    url: mask(request.url),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, mask(v)])),
    body: request.body === null ? null : mask(request.body),
  };
}

import { invalidField } from "./errors.js";
import { headerValue } from "./headers.js";
import { paramName, queryParams, withParamValues, type QueryParam } from "./url-query.js";

// Secrets are write-only: after creation every response shows them masked. A masked value sent back
// unchanged (a console form saving what it was shown) keeps the stored secret, unless the edit changes where
// the rule sends (api/credential-destination.ts).

const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie)$|key|token|secret|pass|credential|private|signature|session|auth/i;

export function maskSecret(value: string): string {
  return value.length >= 16 ? `****${value.slice(-4)}` : "****";
}

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

/**
 * Whether a URL query parameter holds a credential (`api_key`, `secretKey`, `access_token`): named as a credential
 * header would be, or Azure's `code` (a Functions key) and `sig` (a SAS signature). The names are matched as
 * broadly as headers' are: a value shown as **** by mistake (`?keyword=sales`) is still sent and kept when saved
 * back, while a key shown in the clear cannot be taken back.
 */
export function isSensitiveParam(name: string): boolean {
  const read = paramName(name);
  return isSensitiveHeader(read) || /^(code|sig)$/i.test(read);
}

/**
 * The URL's parameters that hold a credential as written: a sensitive name, and a value that is neither empty
 * nor, in a template, written with Handlebars (that renders the event, and is shown as written).
 */
export function credentialParams(url: string, template: boolean): QueryParam[] {
  return queryParams(url, template).filter((param) => !param.templated && param.value !== "" && isSensitiveParam(param.name));
}

/**
 * A URL with each credential in its query masked (`?api_key=****abcd`). `template`: a rule's URL, whose values
 * written with Handlebars are shown as written; a rendered one (a delivery's) has every sensitive value masked,
 * as its credential headers are, whatever made it.
 */
export function maskUrl(url: string, template: boolean): string {
  return withParamValues(url, credentialParams(url, template), ({ value }) => maskSecret(value));
}

/** A credential header's value as its scheme (`Bearer `, or empty) and the credential itself. */
function schemeAndCredential(value: string): [scheme: string, credential: string] {
  const [, scheme = "", credential] = /^((?:Bearer|Basic|Token|Digest)\s+)?(.*)$/is.exec(value)!;
  return [scheme, credential];
}

/** A credential header masked, keeping its scheme (`Bearer ****abcd`) so that people see what kind it is. */
function maskHeaderValue(value: string): string {
  if (value.includes("****")) return value;
  const [scheme, credential] = schemeAndCredential(value);
  return scheme + maskSecret(credential);
}

export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, isSensitiveHeader(name) ? maskHeaderValue(value) : value]),
  );
}

/** A secret from an update: the stored one when the caller sent back its masked form. */
export function keepUnlessChanged(incoming: string, stored: string): string {
  return incoming === maskSecret(stored) ? stored : incoming;
}

/** A value as masking shows a credential (`****`, `****abcd`, `Bearer ****abcd`): no credential itself. */
const MASKED = /^(?:(?:Bearer|Basic|Token|Digest)\s+)?\*{4}\S{0,4}$/i;

/**
 * Headers from an update, keeping each stored sensitive value whose masked form came back under its name (in
 * any case, as HTTP compares names). A masked form with no stored value behind it (the header renamed) would
 * be sent as the credential: refused.
 */
export function mergeHeaders(incoming: Record<string, string>, stored: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(incoming).map(([name, value]) => {
      if (!isSensitiveHeader(name)) return [name, value];
      const kept = headerValue(stored, name);
      if (kept !== undefined && value === maskHeaderValue(kept)) return [name, kept];
      if (MASKED.test(value)) throw invalidField(`headers.${name}`, "is how a stored credential is shown, not one: give the credential itself");
      return [name, value];
    }),
  );
}

/**
 * A rule's URL from an update, keeping each stored credential of its query whose masked form came back under its
 * name (the n-th parameter of a name for the n-th stored one). A masked form with nothing behind it would be
 * sent as the credential: refused, as for headers.
 */
export function mergeUrl(incoming: string, stored: string): string {
  const kept = credentialParams(stored, true);
  const seen = new Map<string, number>();
  return withParamValues(incoming, credentialParams(incoming, true), ({ name, value }) => {
    const index = seen.get(name) ?? 0;
    seen.set(name, index + 1);
    const storedValue = kept.filter((param) => param.name === name)[index]?.value;
    if (storedValue !== undefined && value === maskSecret(storedValue)) return storedValue;
    if (MASKED.test(value)) {
      throw invalidField("url", `the query parameter ${paramName(name)}=${value} is how a stored credential is shown, not one: give the credential itself`);
    }
    return value;
  });
}

/** The credentials in a sent URL's query, as written there and as they read (a receiver may echo either). */
export function urlSecrets(url: string): string[] {
  return credentialParams(url, false).flatMap(({ value }) => [value, paramName(value)]);
}

/** Shorter values are left alone: hiding every "1" or "ab" in a reply would hide nothing and garble it. */
const MIN_HIDDEN_LENGTH = 6;

/** The forms a secret takes in what a receiver echoes: as written, URL- or form-encoded, JSON-escaped. */
function writtenForms(secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)];
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

/**
 * The fewest characters of a secret's start that are hidden at the end of a text: a text cut short (the 4 KiB
 * excerpt of a reply, an error quoting the start of one) can end inside a secret it echoes, and a receiver
 * echoing the request, padded by whoever edits the rule, would otherwise show all but its last characters.
 */
const MIN_HIDDEN_START = 3;

/** A credential header's scheme as a form of it starts (`Bearer `, `Basic%20`): no secret, and common text. */
const SCHEME = /^(?:Bearer|Basic|Token|Digest)(?:\s+|%20|\+)/i;

/** `text` without the start of a secret form that it ends with (beyond a scheme): `****` in its place. */
function withoutCutSecret(text: string, forms: readonly string[]): string {
  for (const form of forms) {
    const fewest = (SCHEME.exec(form)?.[0].length ?? 0) + MIN_HIDDEN_START;
    for (let length = form.length - 1; length >= fewest; length--) {
      if (text.endsWith(form.slice(0, length))) return `${text.slice(0, text.length - length)}****`;
    }
  }
  return text;
}

/**
 * `text` with each of `secrets` replaced by `****` in any of the forms a request carried it, and with the start
 * of one where the text ends (cut short within it).
 */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let hidden = text;
  for (const secret of secrets) {
    if (secret.length < MIN_HIDDEN_LENGTH) continue;
    const forms = writtenForms(secret);
    for (const form of forms) hidden = hidden.split(form).join("****");
    hidden = withoutCutSecret(hidden, forms);
  }
  return hidden;
}

/** The credentials among request headers, as sent and without their scheme (`Bearer`). */
export function headerSecrets(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .filter(([name]) => isSensitiveHeader(name))
    .flatMap(([, value]) => [value, schemeAndCredential(value)[1]]);
}

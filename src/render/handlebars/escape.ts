/** How `{{x}}` output is escaped. `{{{x}}}`, `{{& x}}` and SafeString values are never escaped. */
export type EscapeMode = "html" | "json" | "url" | "none";

export type Escaper = (value: unknown) => string;

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#x27;",
  "`": "&#x60;",
  "=": "&#x3D;",
};
const HTML_BAD = /[&<>"'`=]/g;
const HTML_POSSIBLE = /[&<>"'`=]/;
const htmlChar = (c: string): string => HTML_ESCAPES[c]!;

/** Exactly Handlebars.Utils.escapeExpression. */
function escapeExpression(value: unknown): string {
  let s: string;
  if (typeof value === "string") {
    s = value;
  } else {
    const v = value as { toHTML?: unknown } | null | undefined;
    if (v && typeof v.toHTML === "function") return (v as { toHTML(): string }).toHTML();
    if (v == null) return "";
    if (!v) return (v as unknown as string) + "";
    s = "" + (v as unknown as string);
  }
  return HTML_POSSIBLE.test(s) ? s.replace(HTML_BAD, htmlChar) : s;
}

const JSON_POSSIBLE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
const LINE_SEPS = /[\u2028\u2029]/g;
const lineSep = (c: string): string => (c === "\u2028" ? "\\u2028" : "\\u2029");

/** Escape a string for the inside of a JSON string literal (what JSON.stringify puts between the quotes, plus U+2028/U+2029). */
function escapeJsonString(s: string): string {
  if (!JSON_POSSIBLE.test(s)) return s;
  return JSON.stringify(s).slice(1, -1).replace(LINE_SEPS, lineSep);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** encodeURIComponent, with lone surrogates replaced by U+FFFD instead of throwing. */
function escapeUrlString(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(LONE_SURROGATE, "\ufffd"));
  }
}

/**
 * Stringify like Handlebars' escapeExpression does (null/undefined -> "", false -> "false",
 * arrays -> "a,b"), then escape with `escape`; values with toHTML (SafeString) are returned raw.
 */
function stringifyThen(escape: (s: string) => string): Escaper {
  return (value: unknown): string => {
    if (typeof value === "string") return escape(value);
    const v = value as { toHTML?: unknown } | null | undefined;
    if (v && typeof v.toHTML === "function") return (v as { toHTML(): string }).toHTML();
    if (v == null) return "";
    return escape("" + (v as unknown as string));
  };
}

const ESCAPERS: Record<EscapeMode, Escaper | null> = {
  html: escapeExpression,
  json: stringifyThen(escapeJsonString),
  url: stringifyThen(escapeUrlString),
  none: null, // like Handlebars' noEscape: {{x}} behaves as {{{x}}}
};

/** The escaper for a mode; null means "do not escape". Throws on an unknown mode. */
export function escaperFor(mode: EscapeMode): Escaper | null {
  if (!Object.prototype.hasOwnProperty.call(ESCAPERS, mode)) throw new Error(`unknown escape mode "${String(mode)}"`);
  return ESCAPERS[mode];
}

import type { CanonicalEvent } from "../domain/event.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { headerValue } from "../domain/headers.js";
import { maskUrl } from "../domain/mask.js";
import { HEADER_VALUE_CONTROL, httpMethodOf, type Params, type WebhookSpec } from "../domain/webhook.js";
import { evaluationContext } from "./context.js";
import { evaluateExpression } from "./jsonata.js";
import { exceedsText, MAX_FUNCTION_TEXT } from "./jsonata-functions.js";
import { MAX_STORED_TEXT_BYTES, utf8Length } from "../domain/utf8.js";
import { renderTemplate, type EscapeMode } from "./handlebars/index.js";

export const USER_AGENT = "call-event-gateway/0.1";

/** The largest request a rule may render: a body as large as one stored text may be (it is stored with its delivery), a URL far past what servers accept. */
export const REQUEST_LIMITS = { maxBodyBytes: MAX_STORED_TEXT_BYTES, maxUrl: 64 * 1024 };

export type RenderableRule = Pick<
  WebhookSpec,
  "method" | "url" | "headers" | "params" | "body_template" | "content_type" | "hangup_causes"
>;

/** A rule that could not be rendered for an event; `field` says which part of the rule failed. */
export class RenderError extends Error {
  constructor(
    readonly field: string,
    /** What went wrong, without the field's name. */
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = "RenderError";
  }
}

/** What `work` returns, or its error as a RenderError of `field` (unless it names its own field already). */
async function asRenderError<T>(field: string, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof RenderError ? error : new RenderError(field, (error as Error).message);
  }
}

/**
 * How `{{value}}` is escaped in a body template, chosen from its content type so that the common case
 * yields a valid document: inside JSON strings, in form fields, or in HTML/XML. `{{{value}}}` is never escaped.
 */
export function escapeModeFor(contentType: string): EscapeMode {
  if (/json/i.test(contentType)) return "json";
  if (/x-www-form-urlencoded/i.test(contentType)) return "url";
  if (/html|xml/i.test(contentType)) return "html";
  return "none";
}

/** How a value is escaped where it stands in the rule's body: by its template's content type, or as its params are encoded. */
export function bodyEscapeModeOf(rule: Pick<RenderableRule, "method" | "body_template" | "content_type">): EscapeMode {
  if (rule.body_template !== null) return escapeModeFor(rule.content_type);
  return rule.method === "POST" ? "url" : "json";
}

/** A param value as sent in a query string or form: objects and arrays as JSON, null as empty. */
function paramText(value: unknown): string {
  if (value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Params as `a=1&b=2`, for a query string or a form body. */
function formText(params: Record<string, unknown>): string {
  return new URLSearchParams(Object.entries(params).map(([name, value]) => [name, paramText(value)])).toString();
}

/**
 * A param's value, refused when its texts are longer than any request may carry: measured before anything
 * serializes it, as a text JSONata joined cheaply may hold hundreds of millions of characters.
 */
async function paramValue(field: string, expression: string, context: Record<string, unknown>): Promise<unknown> {
  const value = await asRenderError(field, () => evaluateExpression(expression, context));
  if (exceedsText(value, MAX_FUNCTION_TEXT)) {
    throw new RenderError(field, `the value is longer than ${MAX_FUNCTION_TEXT} characters, more than a request may carry`);
  }
  return value;
}

async function evaluateParams(params: Params, context: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (typeof params === "string") {
    const value = await paramValue("params", params, context);
    if (value === undefined) return {};
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new RenderError("params", "the expression must yield an object of parameters");
    }
    return value as Record<string, unknown>;
  }
  const entries: Array<[string, unknown]> = [];
  for (const [name, expr] of Object.entries(params)) {
    const value = await paramValue(`params.${name}`, expr, context);
    // A path that matches nothing leaves the parameter out rather than sending "undefined".
    if (value !== undefined) entries.push([name, value]);
  }
  // As own properties whatever their names (`__proto__` included).
  return Object.fromEntries(entries);
}

/** Templates that are rendered like headers (unescaped), e.g. a preset's `meta`. */
export function renderTexts(
  templates: Record<string, string>,
  event: CanonicalEvent,
  partials: Record<string, string>,
  config: Record<string, unknown>,
): Record<string, string> {
  const context = evaluationContext(event, {}, config);
  return Object.fromEntries(
    Object.entries(templates).map(([name, template]) => [name, renderTemplate(template, context, { partials, escape: "none" })]),
  );
}

function withoutRaw(event: CanonicalEvent): Record<string, unknown> {
  const { raw: _raw, ...fields } = event;
  return fields;
}

/** Why a rendered header value cannot be sent, or null: HTTP clients refuse a control character other than tab. */
function headerValueProblem(value: string): string | null {
  const control = HEADER_VALUE_CONTROL.exec(value)?.[0];
  if (control === undefined) return null;
  if (control === "\r" || control === "\n") return "rendered value contains a line break";
  const code = `U+${control.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  return `rendered value contains the control character ${code}, which a header value cannot carry (only tab is allowed)`;
}

/**
 * Rendered text as it is sent: a lone surrogate (half an emoji cut off in a PBX field) as U+FFFD, which is what
 * UTF-8 encoding makes of it, so that the preview and the stored request show the characters the receiver gets.
 */
function wellFormed(text: string): string {
  return text.toWellFormed();
}

/** A header value as rendered, as it is sent: spaces around it are not part of it (RFC 9110), receivers and Workers' fetch drop them. */
export function sentHeaderValue(rendered: string): string {
  return wellFormed(rendered).replace(/^[ \t]+|[ \t]+$/g, "");
}

function renderHeaders(
  headers: Record<string, string>,
  context: Record<string, unknown>,
  partials: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(headers)) {
    const value = sentHeaderValue(renderTemplate(template, context, { partials, escape: "none" }));
    const problem = headerValueProblem(value);
    if (problem) throw new RenderError(`headers.${name}`, problem);
    out[name] = value;
  }
  return out;
}

function renderUrl(template: string, context: Record<string, unknown>, partials: Record<string, string>): URL {
  const text = wellFormed(renderTemplate(template, context, { partials, escape: "url" }));
  // Quoted in the error, which the delivery log keeps: its query's credentials masked.
  const quoted = () => maskUrl(text, false).slice(0, 200);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RenderError("url", `rendered URL is not valid: ${quoted()}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RenderError("url", `rendered URL must be http or https: ${quoted()}`);
  }
  // Neither would be sent: a request carries the URL's path and query only.
  if (url.username || url.password) {
    throw new RenderError("url", "the rendered URL carries user:password, which is never sent: put the credentials in an Authorization header instead");
  }
  if (url.href.includes("#")) {
    // `{{x}}` is URL-encoded in a URL, its `#` sent as %23; `{{{x}}}` is not.
    throw new RenderError("url", "the rendered URL has a #fragment, which is never sent: insert the value with {{value}} (URL-encoded), not {{{value}}}");
  }
  if (hasDotSegment(text)) {
    throw new RenderError("url", "the rendered URL's path has a \".\" or \"..\" segment, which would send the request to another path: a value inserted as a whole path segment was one");
  }
  return url;
}

/**
 * Whether the path as rendered has a `.` or `..` segment (`%2e` counts: URL parsing reads it as a dot), which
 * parsing resolves away: a caller name of `..` in `/contacts/{{caller_name}}/calls` would send to `/calls`.
 * URL-encoding cannot prevent it, as it leaves dots alone.
 */
function hasDotSegment(text: string): boolean {
  // As URL parsing reads it: tabs and line breaks dropped, a backslash a slash (in http and https URLs).
  const read = text.replace(/[\t\n\r]/g, "").replace(/\\/g, "/");
  const path = read.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "").split(/[?#]/)[0];
  return path.split("/").some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}

/** A rendered URL or body over `REQUEST_LIMITS` is a render failure of the field that made it. */
function checkSize(rule: RenderableRule, url: URL, body: string | null): void {
  // A character is at most 3 UTF-8 bytes (a pair of surrogates 4): only a long body needs counting.
  if (body !== null && body.length * 3 > REQUEST_LIMITS.maxBodyBytes && utf8Length(body) > REQUEST_LIMITS.maxBodyBytes) {
    const field = rule.body_template !== null ? "body_template" : "params";
    throw new RenderError(field, `the rendered body is larger than ${REQUEST_LIMITS.maxBodyBytes} bytes`);
  }
  if (url.href.length > REQUEST_LIMITS.maxUrl) {
    const field = rule.method === "GET" && rule.params !== null ? "params" : "url";
    throw new RenderError(field, `the rendered URL is longer than ${REQUEST_LIMITS.maxUrl} characters`);
  }
}

/**
 * Webhook rule + canonical event -> the exact request to send. `config` is what templates see as `config`
 * (a preset's settings, secrets as placeholders). Throws RenderError naming the failing field.
 */
export async function renderRequest(
  rule: RenderableRule,
  event: CanonicalEvent,
  partials: Record<string, string> = {},
  config: Record<string, unknown> = {},
): Promise<RenderedRequest> {
  const context = evaluationContext(event, rule.hangup_causes, config);
  const method = httpMethodOf(rule.method);
  const url = await asRenderError("url", () => renderUrl(rule.url, context, partials));
  const headers = await asRenderError("headers", () => renderHeaders(rule.headers, context, partials));
  if (headerValue(headers, "user-agent") === undefined) headers["user-agent"] = USER_AGENT;

  let body: string | null = null;
  let contentType: string | null = null;
  if (rule.body_template !== null) {
    const template = rule.body_template;
    const escape = bodyEscapeModeOf(rule);
    body = await asRenderError("body_template", () => wellFormed(renderTemplate(template, context, { partials, escape })));
    contentType = rule.content_type;
  } else {
    const params =
      rule.params !== null ? await evaluateParams(rule.params, context) : method === "GET" ? {} : withoutRaw(event);
    // Serializing can fail too: an expression may build a value nested too deep for JSON.stringify.
    await asRenderError("params", () => {
      if (method === "GET") {
        // Appended to the query as the URL has it: searchParams would re-encode what the rule wrote there.
        const added = formText(params);
        if (added) url.search = url.search ? `${url.search}&${added}` : added;
      } else if (rule.method === "POST") {
        body = formText(params);
        contentType = "application/x-www-form-urlencoded";
      } else {
        body = JSON.stringify(params);
        contentType = "application/json";
      }
    });
  }
  if (method === "GET") body = null;
  checkSize(rule, url, body);
  if (contentType && body !== null && headerValue(headers, "content-type") === undefined) headers["content-type"] = contentType;
  return { method, url: url.toString(), headers, body };
}

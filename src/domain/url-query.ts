// A URL's query parameters found in its text, where each stands: in a rule's URL template as in a rendered URL.
// Read from the text rather than parsed (`new URL`), so that a template parses too, and a value can be replaced
// where it was written, every other character kept.

/** One `name=value` of a URL's query: its text as written, and where its value stands in the URL. */
export interface QueryParam {
  /** The name as written (percent-encoded as the URL has it). */
  name: string;
  value: string;
  /** Where the value starts and ends in the URL's text. */
  start: number;
  end: number;
  /** Part of it is written with Handlebars (a template's only): it renders the event, it is not a fixed value. */
  templated: boolean;
}

/** A Handlebars expression, as the rule's other checks find them (webhook.ts `literalText`, destination.ts). */
const MUSTACHE = /\{\{[^]*?\}\}\}?/g;

/** The text with each expression blanked out, at the same length: a `?`, `&` or `#` inside one is not the URL's. */
function outsideExpressions(text: string): string {
  return text.replace(MUSTACHE, (mustache) => "\0".repeat(mustache.length));
}

/**
 * The `name=value` parameters of the URL's query, in order. In a template (`template`), one with a brace
 * anywhere in it is `templated`: an expression, or text that Handlebars may read as part of one.
 */
export function queryParams(url: string, template: boolean): QueryParam[] {
  const plain = template ? outsideExpressions(url) : url;
  const begins = plain.indexOf("?");
  if (begins < 0) return [];
  const fragment = plain.indexOf("#", begins);
  const ends = fragment < 0 ? url.length : fragment;
  const params: QueryParam[] = [];
  let start = begins + 1;
  while (start <= ends) {
    const amp = plain.indexOf("&", start);
    const end = amp < 0 || amp > ends ? ends : amp;
    const text = url.slice(start, end);
    const equals = text.indexOf("=");
    if (equals > 0) {
      const templated = template && /[{}]/.test(text);
      params.push({ name: text.slice(0, equals), value: text.slice(equals + 1), start: start + equals + 1, end, templated });
    }
    start = end + 1;
  }
  return params;
}

/** A query parameter's name as it reads (`api%5Fkey` is `api_key`, `+` a space). */
export function paramName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    return name;
  }
}

/** `url` with each parameter's value replaced by `replace(param)` (the same text where it returns it). */
export function withParamValues(url: string, params: readonly QueryParam[], replace: (param: QueryParam) => string): string {
  let out = "";
  let at = 0;
  for (const param of params) {
    out += url.slice(at, param.start) + replace(param);
    at = param.end;
  }
  return out + url.slice(at);
}

/** An async `withParamValues`, for sealing and opening. */
export async function withParamValuesAsync(url: string, params: readonly QueryParam[], replace: (param: QueryParam) => Promise<string>): Promise<string> {
  const values = await Promise.all(params.map(replace));
  const byParam = new Map(params.map((param, index) => [param, values[index]]));
  return withParamValues(url, params, (param) => byParam.get(param)!);
}

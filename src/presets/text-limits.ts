import type { RenderedRequest } from "../domain/delivery.js";
import { jsonObjectOf } from "../domain/json-object.js";
import { textPrefix } from "../domain/utf8.js";

// A CRM refuses a whole record when one text of it is longer than its field takes (Salesforce: a permanent 400
// STRING_TOO_LONG for a 256-character Subject), so the call would never be logged. A preset names those limits;
// the rendered body's texts are cut to them when rendered, so that the preview, the log and every attempt
// show and send the same cut text.

/** Where the string value of each of a JSON object's own members stands in its text: the quoted token. */
interface MemberString {
  name: string;
  start: number;
  end: number;
}

/** The index just past the JSON string token that starts at `start` (its opening quote). */
function stringEnd(json: string, start: number): number {
  let i = start + 1;
  while (json[i] !== '"') i += json[i] === "\\" ? 2 : 1;
  return i + 1;
}

/** The string-valued members of the JSON object `json` (valid JSON), in order; nested ones are not looked into. */
function memberStrings(json: string): MemberString[] {
  const members: MemberString[] = [];
  let depth = 0;
  // At depth 1, a member's name once read, until its value (a string, or anything ended by a comma) is past.
  let name: string | null = null;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      const end = stringEnd(json, i);
      if (depth === 1) {
        if (name === null) name = JSON.parse(json.slice(i, end)) as string;
        else {
          members.push({ name, start: i, end });
          name = null;
        }
      }
      i = end - 1;
    } else if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
    else if (ch === "," && depth === 1) name = null;
  }
  return members;
}

/**
 * The JSON object body with each member named in `limits` cut to that many characters (see `textPrefix`);
 * everything else byte for byte as it was. A body that is no JSON object is left as it is.
 */
function withTextsCut(body: string, limits: Readonly<Record<string, number>>): string {
  if (Object.keys(limits).length === 0 || jsonObjectOf(body) === null) return body;
  let cut = "";
  let from = 0;
  for (const { name, start, end } of memberStrings(body)) {
    const limit = Object.hasOwn(limits, name) ? limits[name] : undefined;
    if (limit === undefined || end - start - 2 <= limit) continue; // a token no longer than the limit holds no more characters
    const value = JSON.parse(body.slice(start, end)) as string;
    if (value.length <= limit) continue;
    cut += body.slice(from, start) + JSON.stringify(textPrefix(value, limit));
    from = end;
  }
  return from === 0 ? body : cut + body.slice(from);
}

/** The request with its body's texts cut to the preset's limits. */
export function withTextLimits(request: RenderedRequest, limits: Readonly<Record<string, number>>): RenderedRequest {
  return request.body === null ? request : { ...request, body: withTextsCut(request.body, limits) };
}

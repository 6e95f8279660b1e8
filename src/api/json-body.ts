import type { Context } from "hono";
import type { z } from "zod";
import { GatewayError, invalidField, parseWith } from "../domain/errors.js";
import { bodyOf } from "./request-body.js";

// A JSON request body: its content type, its text parsed (bounded in depth), and validated by a schema.

const utf8 = new TextDecoder();

function isJsonContentType(value: string | undefined): boolean {
  const type = (value ?? "").split(";")[0].trim().toLowerCase();
  return type === "application/json" || type === "text/json" || /^application\/[\w.+-]+\+json$/.test(type);
}

/** Deepest nesting of arrays and objects a request body may have: PBX payloads and rules need a handful of levels. */
export const MAX_JSON_DEPTH = 64;

/** Offset of the first bracket nested deeper than `max`, or -1: a linear scan, so a hostile body never reaches recursive code. */
function tooDeepAt(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return i;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return -1;
}

/** Parses JSON text, or throws a 400 that says where it broke or nests too deep. */
export function parseJson(text: string): unknown {
  if (!text.trim()) throw new GatewayError(400, "invalid_json", "The request body is empty; send a JSON document");
  const deep = tooDeepAt(text, MAX_JSON_DEPTH);
  if (deep !== -1) {
    throw new GatewayError(400, "too_deep", `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} deep (at offset ${deep})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GatewayError(400, "invalid_json", `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function requireJsonContentType(c: Context): void {
  const type = c.req.header("content-type");
  if (!isJsonContentType(type)) {
    throw new GatewayError(415, "unsupported_media_type", `Send Content-Type: application/json (got ${type ?? "none"})`);
  }
}

/** Where a parsed body has what no admin record may keep, and what it is; null when nothing (recursion is safe: parseJson bounds the depth). */
function refusalIn(value: unknown, path: string[] = []): { path: string; problem: string } | null {
  if (typeof value === "string" && value.includes("\0")) return { path: path.join("."), problem: NUL_REFUSED };
  if (value === null || typeof value !== "object") return null;
  for (const [key, child] of Object.entries(value)) {
    if (key === "__proto__") return { path: [...path, key].join("."), problem: 'a key named "__proto__" is not accepted' };
    if (key.includes("\0")) return { path: [...path, key].join("."), problem: `its name: ${NUL_REFUSED}` };
    const found = refusalIn(child, [...path, key]);
    if (found) return found;
  }
  return null;
}

/** libSQL on Node reads a stored text back only up to its first U+0000: a name kept with one would come back cut short. */
const NUL_REFUSED = "contains the character U+0000 (NUL), which cannot be stored";

/**
 * A JSON request body: 415 for another content type, 400 saying where the JSON broke. A `__proto__` key
 * (JSON.parse keeps it, but validation would drop it without a word) and a U+0000 in any text are refused,
 * naming where they are.
 */
export async function readJson(c: Context): Promise<unknown> {
  requireJsonContentType(c);
  const body = parseJson(utf8.decode(await bodyOf(c)));
  const refusal = refusalIn(body);
  if (refusal) throw invalidField(refusal.path, refusal.problem);
  return body;
}

/** A JSON request body validated by a schema; a 400 names each invalid field. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseWith(schema, await readJson(c));
}

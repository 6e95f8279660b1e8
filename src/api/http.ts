import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { GatewayError, invalidField, parseWith } from "../domain/errors.js";

const utf8 = new TextDecoder();

/** Admin request bodies are small; templates included. */
export const ADMIN_BODY_LIMIT = 512 * 1024;
/** A PBX payload, or a batch of up to 1,000 canonical events. */
export const INGEST_BODY_LIMIT = 2 * 1024 * 1024;

/**
 * Refuses a body over `maxSize` bytes with 413. A declared Content-Length is checked without touching the
 * body, so that the runtime can still read it the fast way (on Node, straight from the socket instead of
 * through a web stream); a body without one is counted as it streams in.
 */
export function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = (c: Context): never => {
    // The unread rest of the body is drained and the connection dropped: tell the client not to reuse it.
    c.header("Connection", "close");
    throw new GatewayError(413, "payload_too_large", `The request body is larger than ${maxSize} bytes`);
  };
  const counted = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared === undefined || c.req.header("transfer-encoding") !== undefined) {
      // A body without a length is read here, before what comes next: a failure before then is the body's.
      let reading = true;
      return counted(c, () => ((reading = false), next())).catch((error: unknown) => {
        throw reading ? bodyCutShort(error) : error;
      });
    }
    if (Number(declared) > maxSize) tooLarge(c);
    await next();
  };
}

/**
 * A body the client stopped sending (it hung up) as the 400 it is: otherwise its ECONNRESET would read as the
 * database's, logged and counted as an outage. Our own refusals (413, 503 overloaded) pass as they are.
 */
function bodyCutShort(error: unknown): unknown {
  if (error instanceof GatewayError || error instanceof HTTPException) return error;
  return new GatewayError(400, "body_incomplete", "The request body ended before all of it came: the client closed the connection");
}

/** The request's body; one its client stopped sending is a 400 `body_incomplete`. */
export async function bodyOf(c: Context): Promise<ArrayBuffer> {
  return c.req.arrayBuffer().catch((error: unknown) => {
    throw bodyCutShort(error);
  });
}

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

/** The path of the first `__proto__` key in a parsed body, or null (recursion is safe: parseJson bounds the depth). */
function protoKeyAt(value: unknown, path: string[] = []): string | null {
  if (value === null || typeof value !== "object") return null;
  for (const [key, child] of Object.entries(value)) {
    if (key === "__proto__") return [...path, key].join(".");
    const found = protoKeyAt(child, [...path, key]);
    if (found) return found;
  }
  return null;
}

/**
 * A JSON request body: 415 for another content type, 400 saying where the JSON broke. A `__proto__` key
 * (JSON.parse keeps it, but validation would drop it without a word) is refused, naming where it is.
 */
export async function readJson(c: Context): Promise<unknown> {
  requireJsonContentType(c);
  const body = parseJson(utf8.decode(await bodyOf(c)));
  const proto = protoKeyAt(body);
  if (proto) throw invalidField(proto, 'a key named "__proto__" is not accepted');
  return body;
}

/** A JSON request body validated by a schema; a 400 names each invalid field. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseWith(schema, await readJson(c));
}

export const pageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional(),
});

/** `?limit=&cursor=` for list endpoints; other query parameters are filters the caller picks out. */
export function pageQuery(c: Context) {
  return parseWith(pageSchema, { limit: c.req.query("limit"), cursor: c.req.query("cursor") || undefined });
}

/** The filters of a list request: every query parameter but the paging ones, validated by a strict schema. */
export function filterOf<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const filters = Object.entries(c.req.query()).filter(([name, value]) => value !== "" && name !== "limit" && name !== "cursor");
  return parseWith(schema, Object.fromEntries(filters));
}

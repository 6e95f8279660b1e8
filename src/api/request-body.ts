import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { GatewayError } from "../domain/errors.js";

// A request's body as bytes: how large it may be, and reading it whole. A client that hangs up mid-body is a 400
// whichever of them notices.

/** Admin request bodies are small; templates included. */
export const ADMIN_BODY_LIMIT = 512 * 1024;
/** A PBX payload, or a batch of up to 1,000 canonical events. */
export const INGEST_BODY_LIMIT = 2 * 1024 * 1024;

/** The length a request declares for its body, or undefined when it streams one without (chunked). */
export function declaredLength(c: Context): number | undefined {
  const declared = c.req.header("content-length");
  return declared === undefined || c.req.header("transfer-encoding") !== undefined ? undefined : Number(declared);
}

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
    const declared = declaredLength(c);
    if (declared === undefined) {
      // A body without a length is read here, before what comes next: a failure before then is the body's.
      let reading = true;
      return counted(c, () => ((reading = false), next())).catch((error: unknown) => {
        throw reading ? bodyCutShort(error) : error;
      });
    }
    if (declared > maxSize) tooLarge(c);
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

import type { Context, MiddlewareHandler } from "hono";
import { refuseOverloaded } from "./admission.js";
import type { Bound } from "./bound.js";
import { declaredLength } from "./request-body.js";

/**
 * Bytes of ingest bodies a Node gateway holds at once unless INGEST_MAX_BODY_BYTES says otherwise. A PBX event
 * is a few KiB, so INGEST_MAX_PENDING (1,024) of them hold a few MiB: no realistic load comes near. Yet it is
 * only 64 bodies at the 2 MiB limit, whose bytes, text and parsed events fit with the rest of the process in
 * the ~1 GiB a gateway on two cores has, where thousands of connections posting 2 MiB each would take gigabytes.
 */
export const DEFAULT_INGEST_MAX_BODY_BYTES = 128 * 1024 * 1024;

/**
 * Holds at most `bytes.max` bytes of ingest bodies at once (Node only, as admitAtMost), counted in `bytes` from the
 * request's head until it is answered or its body dropped (the client gone: the read fails, and the bytes are
 * given back all the same). A declared length that would pass the bound is answered 503 `overloaded` at once,
 * before any of its body is read; one over `perBody` is left to limitBody's 413, as no retry would make it pass.
 * A body without a length is counted as it streams in, and refused as it passes. Unlike the bound on requests,
 * a body being read counts: its bytes are in memory all the same.
 */
export function holdBodyBytesAtMost(bytes: Bound, perBody: number): MiddlewareHandler {
  const refuse = (c: Context): never => {
    // The unread rest of the body is dropped with the connection: tell the client not to reuse it.
    c.header("Connection", "close");
    return refuseOverloaded(c, `The gateway already holds ${bytes.held} bytes of ingest bodies, at most ${bytes.max} (INGEST_MAX_BODY_BYTES)`);
  };

  /** The request's body through a stream that counts each chunk as held, erroring with the refusal once past the bound. */
  const counting = (c: Context, body: ReadableStream<Uint8Array>, count: (bytes: number) => void) => {
    const reader = body.getReader();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        count(value.byteLength);
        if (bytes.held > bytes.max) {
          try {
            refuse(c);
          } catch (refusal) {
            // The source is left unread rather than cancelled: cancelling it would close the socket before the answer.
            return controller.error(refusal);
          }
        }
        controller.enqueue(value);
      },
    });
    return new Request(c.req.raw, { body: stream, duplex: "half" } as RequestInit);
  };

  return async (c, next) => {
    const declared = declaredLength(c);
    if (declared !== undefined && declared > perBody) return next();
    let mine = 0;
    const take = (amount: number) => ((mine += amount), bytes.take(amount));
    if (declared === undefined) {
      if (c.req.raw.body) c.req.raw = counting(c, c.req.raw.body, take);
    } else {
      if (bytes.held + declared > bytes.max) refuse(c);
      take(declared);
    }
    try {
      await next();
    } finally {
      bytes.giveBack(mine);
    }
  };
}

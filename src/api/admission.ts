import type { Context, MiddlewareHandler } from "hono";
import { GatewayError } from "../domain/errors.js";
import type { Bound } from "./bound.js";
import { bodyOf } from "./request-body.js";

/**
 * Ingest requests a Node gateway handles at once unless INGEST_MAX_PENDING says otherwise: eight times what
 * the benchmark keeps outstanding (128), yet under half a second of work at the 2,500 events/s or so a
 * gateway commits on two cores, so a PBX is answered well within its webhook timeout (Wildix: 5 s).
 */
export const DEFAULT_INGEST_MAX_PENDING = 1_024;

/** Seconds a client refused for overload is asked to wait: at the bound, less than a second of work is queued. */
export const OVERLOAD_RETRY_AFTER_S = 1;

export const OVERLOADED = "overloaded";

/** Answers 503 `overloaded` with Retry-After, `why` saying which bound the request would pass. */
export function refuseOverloaded(c: Context, why: string): never {
  c.header("Retry-After", String(OVERLOAD_RETRY_AFTER_S));
  throw new GatewayError(503, OVERLOADED, `${why}: nothing was stored; retry after ${OVERLOAD_RETRY_AFTER_S} s`, {
    retry_after_seconds: OVERLOAD_RETRY_AFTER_S,
  });
}

/**
 * Handles at most `pending.max` requests at once, each counted in `pending` from when its body is in until it is
 * answered; past that, 503 `overloaded` with Retry-After at once, before anything is looked up or stored.
 * Without a bound the queue, the latency and the memory of an offered load beyond what the gateway commits grow
 * for as long as it lasts, and a PBX that gave up after its timeout (and may resend) has its event committed all
 * the same.
 * The body is read before the request counts: a client trickling its body in holds no place, or a few hundred
 * slow connections would shut every PBX out (the bytes such bodies hold are bounded by holdBodyBytesAtMost).
 */
export function admitAtMost(pending: Bound): MiddlewareHandler {
  return async (c, next) => {
    await bodyOf(c);
    if (pending.held >= pending.max) refuseOverloaded(c, `The gateway is already handling ${pending.max} ingest requests (INGEST_MAX_PENDING)`);
    pending.take(1);
    try {
      await next();
    } finally {
      pending.giveBack(1);
    }
  };
}

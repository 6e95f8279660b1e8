import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { errorText, GatewayError, type ErrorDetails } from "../domain/errors.js";
import type { Logger } from "../log.js";
import type { GatewayMetrics } from "../metrics/gateway.js";
import { storageFailure } from "../store/storage-failure.js";
import type { ErrorBody } from "./view-schemas.js";

/** Seconds a client is asked to wait after the database could not take its request. */
export const STORAGE_RETRY_AFTER_S = 30;

export function errorBody(code: string, message: string, details?: ErrorDetails): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** The 503's body when the database could not take a request (`words`: its own, from `storageFailure`). */
export function storageUnavailableBody(words: string) {
  return errorBody("storage_unavailable", `The database cannot take this now (${words}): nothing was changed; retry later`);
}

/**
 * Every error leaves as `{"error": {code, message, details}}` with its status: a database that cannot work now
 * is a 503 with Retry-After, an unexpected error a logged 500.
 */
export function errorHandler(log: Logger, metrics: GatewayMetrics) {
  return (error: Error, c: Context) => {
    if (error instanceof GatewayError) {
      return c.json(errorBody(error.code, error.message, error.details), error.status);
    }
    if (error instanceof HTTPException) {
      return c.json(errorBody("http_error", error.message || "Request failed"), error.status);
    }
    const unavailable = storageFailure(error);
    if (unavailable) {
      log.error("database unavailable", { method: c.req.method, path: c.req.path, error: unavailable });
      metrics.storageUnavailable.inc();
      c.header("Retry-After", String(STORAGE_RETRY_AFTER_S));
      return c.json(storageUnavailableBody(unavailable), 503);
    }
    log.error("unhandled error", { method: c.req.method, path: c.req.path, error: errorText(error, true) });
    return c.json(errorBody("internal", "Internal error"), 500);
  };
}

export function notFoundHandler(c: Context) {
  return c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`), 404);
}

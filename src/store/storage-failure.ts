// Database errors that say the database cannot do its work now (a full disk, an I/O error, a lock held too
// long, a connection gone, a libSQL server down), as opposed to a refusal of what was asked (a constraint) or a
// bug. The API answers them 503 with Retry-After: the transaction did not happen, and trying again later is the
// remedy.

/** SQLite's result codes (base codes; an extended one counts as its base) and @libsql/client's closed-client code. */
const UNAVAILABLE = new Set([
  "SQLITE_FULL",
  "SQLITE_IOERR",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_READONLY",
  "SQLITE_CANTOPEN",
  "SQLITE_NOMEM",
  "SQLITE_PROTOCOL",
  "CLIENT_CLOSED",
]);

/** The network's codes on the way to a libSQL server (Node's and undici's: a fetch that failed has one in its cause). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** @libsql/client's code for an HTTP error answer from a libSQL server; its status is on it or on its cause. */
const SERVER_ERROR = "SERVER_ERROR";

/** A libSQL server's answer that says to come back later: a 5xx (it, or a proxy before it, failing), or 429. */
function serverUnavailable(error: Error): number | null {
  const status = (error as { status?: unknown }).status ?? (error.cause as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && (status >= 500 || status === 429) ? status : null;
}

/** D1 has no `code`: it ends its message with SQLite's ("D1_ERROR: database or disk is full: SQLITE_FULL"). */
const D1_SQLITE_CODE = /: (SQLITE_[A-Z_]+)$/;

/** D1's own failures that Cloudflare's D1 error list says to retry (the database object was reset, overloaded or unreachable). */
const D1_TRANSIENT = [
  "Network connection lost",
  "storage caused object to be reset",
  "reset because its code was updated",
  "D1 DB is overloaded",
  "exceeded its memory limit",
  "exceeded its CPU time limit",
  "Exceeded maximum DB size",
];

/** `SQLITE_IOERR_WRITE` → `SQLITE_IOERR`; other codes as they are. */
function baseCode(code: string): string {
  return code.startsWith("SQLITE_") ? code.split("_", 2).join("_") : code;
}

/**
 * Why `error` is such a failure, in words a client may be shown, or null. A libSQL server's are its kind, not
 * its message: that names the server's address, and a proxy's error page may stand for the server's words.
 */
function unavailableWords(error: Error): string | null {
  const code = (error as { code?: unknown }).code;
  const firstLine = error.message.split("\n")[0];
  if (code === SERVER_ERROR) {
    const status = serverUnavailable(error);
    return status === null ? null : `database server answered HTTP ${status}`;
  }
  if (typeof code === "string" && UNREACHABLE.has(code)) return `database server unreachable: ${code}`;
  if (typeof code === "string") return UNAVAILABLE.has(baseCode(code)) ? firstLine : null;
  const d1Code = D1_SQLITE_CODE.exec(firstLine)?.[1];
  if (d1Code) return UNAVAILABLE.has(baseCode(d1Code)) ? firstLine : null;
  return D1_TRANSIENT.some((text) => firstLine.includes(text)) ? firstLine : null;
}

/** The database's words when `error` (or an error it wraps, as drizzle and D1 do) is such a failure; else null. */
export function storageFailure(error: unknown): string | null {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const words = unavailableWords(cause);
    if (words !== null) return words;
  }
  return null;
}

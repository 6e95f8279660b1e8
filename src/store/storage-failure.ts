// Database errors that say the database cannot do its work now (a full disk, an I/O error, a lock held too
// long, a connection gone), as opposed to a refusal of what was asked (a constraint) or a bug. The API answers
// them 503 with Retry-After: the transaction did not happen, and trying again later is the remedy.

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

function isUnavailable(error: Error, firstLine: string): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return UNAVAILABLE.has(baseCode(code));
  const d1Code = D1_SQLITE_CODE.exec(firstLine)?.[1];
  if (d1Code) return UNAVAILABLE.has(baseCode(d1Code));
  return D1_TRANSIENT.some((text) => firstLine.includes(text));
}

/** The database's own words when `error` (or an error it wraps, as drizzle and D1 do) is such a failure; else null. */
export function storageFailure(error: unknown): string | null {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const firstLine = cause.message.split("\n")[0];
    if (isUnavailable(cause, firstLine)) return firstLine;
  }
  return null;
}

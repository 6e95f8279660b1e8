// Database errors that say the database cannot do its work now (a full disk, an I/O error, a lock held too
// long, a connection gone), as opposed to a refusal of what was asked (a constraint) or a bug. The API answers
// them 503 with Retry-After: the transaction did not happen, and trying again later is the remedy.

/** SQLite's result codes (libSQL reports the base code as `code`) and @libsql/client's closed-client code. */
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

/** The database's own words when `error` (or an error it wraps, as drizzle does) is such a failure; else null. */
export function storageFailure(error: unknown): string | null {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && UNAVAILABLE.has(code)) return cause.message.split("\n")[0];
  }
  return null;
}

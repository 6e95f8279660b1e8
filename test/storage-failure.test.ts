import { describe, expect, it } from "vitest";
import { errorText } from "../src/domain/errors.js";
import { storageFailure } from "../src/store/storage-failure.js";

// Which database errors the API answers 503 (retry later) rather than 500. A full disk is produced for real
// on both runtimes in disk-full.test.ts; the D1 failures below only Cloudflare's hosted D1 gives, so they are
// written as D1 words them (its error list) and as drizzle wraps them ("Failed query: …", cause: D1's error).

/** An error as libSQL throws it: SQLite's code in `code`. */
const libsqlError = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code });
/** drizzle's wrapper around a driver's error: the statement, then its values. */
const drizzleWrapped = (cause: Error) => new Error("Failed query: insert into \"events\" ...\nparams: evt_1", { cause });
/** D1's error: its message, and SQLite's where there is one, in the cause. */
const d1Error = (message: string) => new Error(`D1_ERROR: ${message}`, { cause: new Error(message) });

describe("storageFailure", () => {
  it("knows libSQL's codes, extended codes by their base, and a closed client", () => {
    expect(storageFailure(drizzleWrapped(libsqlError("SQLITE_FULL", "database or disk is full")))).toBe("SQLITE_FULL: database or disk is full");
    expect(storageFailure(libsqlError("SQLITE_IOERR_WRITE", "disk I/O error"))).toBe("SQLITE_IOERR_WRITE: disk I/O error");
    expect(storageFailure(libsqlError("SQLITE_BUSY", "database is locked"))).toBe("SQLITE_BUSY: database is locked");
    expect(storageFailure(libsqlError("CLIENT_CLOSED", "The client is closed"))).toBe("CLIENT_CLOSED: The client is closed");
  });

  it("knows D1's SQLite code at the end of its message, and D1's own retryable failures", () => {
    expect(storageFailure(drizzleWrapped(d1Error("database or disk is full: SQLITE_FULL")))).toBe("D1_ERROR: database or disk is full: SQLITE_FULL");
    for (const message of [
      "Network connection lost.",
      "D1 DB is overloaded. Requests queued for too long.",
      "Internal error while starting up D1 DB storage caused object to be reset.",
      "D1 DB reset because its code was updated.",
      "D1 DB's isolate exceeded its memory limit and was reset.",
      "Exceeded maximum DB size.",
    ]) {
      expect(storageFailure(drizzleWrapped(d1Error(message)))).toBe(`D1_ERROR: ${message}`);
    }
  });

  it("knows a libSQL server that cannot be reached or fails, by the kind of error, not its address or a proxy's page", () => {
    // As @libsql/client throws them over HTTP: fetch's TypeError with the network's code in its cause, or
    // SERVER_ERROR with the HTTP error (its status) as the cause; and as they cross from the database thread.
    const fetchFailed = (code: string, message: string) => new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
    const serverError = (status: number) =>
      Object.assign(new Error(`SERVER_ERROR: Server returned HTTP status ${status}: <html>bad gateway at 10.0.0.5</html>`, { cause: Object.assign(new Error("Server returned HTTP status"), { status }) }), {
        code: "SERVER_ERROR",
      });
    expect(storageFailure(fetchFailed("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.5:8080"))).toBe("database server unreachable: ECONNREFUSED");
    expect(storageFailure(drizzleWrapped(fetchFailed("UND_ERR_SOCKET", "other side closed")))).toBe("database server unreachable: UND_ERR_SOCKET");
    expect(storageFailure(Object.assign(new TypeError("fetch failed: connect ECONNRESET 10.0.0.5:8080"), { code: "ECONNRESET" }))).toBe("database server unreachable: ECONNRESET");
    expect(storageFailure(serverError(502))).toBe("database server answered HTTP 502");
    expect(storageFailure(Object.assign(new Error("SERVER_ERROR: Server returned HTTP status 503"), { code: "SERVER_ERROR", status: 503 }))).toBe("database server answered HTTP 503");
    expect(storageFailure(serverError(429))).toBe("database server answered HTTP 429");
    // A token refused is the operator's to fix, not a wait: the 500 path, logged.
    expect(storageFailure(serverError(401))).toBeNull();
  });

  it("leaves refusals of what was asked and bugs to the 500 path", () => {
    expect(storageFailure(drizzleWrapped(libsqlError("SQLITE_CONSTRAINT", "UNIQUE constraint failed: events.source_id")))).toBeNull();
    expect(storageFailure(drizzleWrapped(d1Error("UNIQUE constraint failed: events.source_id: SQLITE_CONSTRAINT")))).toBeNull();
    expect(storageFailure(d1Error("no such table: events: SQLITE_ERROR"))).toBeNull();
    expect(storageFailure(new TypeError("Cannot read properties of undefined"))).toBeNull();
    expect(storageFailure("SQLITE_FULL")).toBeNull();
  });
});

describe("errorText", () => {
  it("adds each wrapped error's words, so a log line says why a query failed, and leaves the query's values out", () => {
    const error = drizzleWrapped(d1Error("database or disk is full: SQLITE_FULL"));
    expect(errorText(error)).toBe(
      'Error: Failed query: insert into "events" ...\nparams: (not logged)\ncaused by: Error: D1_ERROR: database or disk is full: SQLITE_FULL\ncaused by: Error: database or disk is full: SQLITE_FULL',
    );
    const withStack = errorText(error, true);
    expect(withStack).toMatch(/^Error: Failed query: insert into "events" \.\.\.\nparams: \(not logged\)\n {4}at [^]*\ncaused by: Error: D1_ERROR: /);
    expect(withStack).not.toContain("evt_1");
    const body = new Error('Failed query: update "deliveries" set "request" = ?\nparams: {"body":"caller\nnotes"},dlv_1');
    expect(errorText(body)).toBe('Error: Failed query: update "deliveries" set "request" = ?\nparams: (not logged)');
    expect(errorText("not an error")).toBe("not an error");
  });
});

// The libSQL connection, in a worker thread of its own (see node-database-client.ts). Plain JavaScript: Node
// starts a worker thread outside the TypeScript loader of `npm start` and of the test runner.
import { parentPort, workerData } from "node:worker_threads";
import { createClient } from "@libsql/client";
import Database from "libsql";

/** Prepared statements kept per SQL text: the store's writes repeat a few texts (see store/driver-sql.ts). */
const MAX_PREPARED = 256;

const BEGIN = { write: "BEGIN IMMEDIATE", read: "BEGIN TRANSACTION READONLY", deferred: "BEGIN DEFERRED" };

/** The path of a plain `file:` URL (`file:rel/path`, `file:/abs`, `file:///abs`), or null for anything else. */
function filePath(url) {
  const match = /^file:(?:\/\/(?:localhost)?(?=\/))?([^?#]+)$/.exec(url);
  return match && match[1] !== ":memory:" ? match[1] : null;
}

/** A value as libSQL binds it, as @libsql/client converts it. */
function bindable(value) {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value === undefined) throw new TypeError("undefined cannot be passed as argument to the database");
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (value instanceof Date) return value.valueOf();
  return value;
}

/** SQLite's primary result codes, by number (the low byte of an extended code). */
const PRIMARY_CODES = [
  "SQLITE_OK", "SQLITE_ERROR", "SQLITE_INTERNAL", "SQLITE_PERM", "SQLITE_ABORT", "SQLITE_BUSY", "SQLITE_LOCKED",
  "SQLITE_NOMEM", "SQLITE_READONLY", "SQLITE_INTERRUPT", "SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_NOTFOUND",
  "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_PROTOCOL", "SQLITE_EMPTY", "SQLITE_SCHEMA", "SQLITE_TOOBIG",
  "SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_MISUSE", "SQLITE_NOLFS", "SQLITE_AUTH", "SQLITE_FORMAT",
  "SQLITE_RANGE", "SQLITE_NOTADB", "SQLITE_NOTICE", "SQLITE_WARNING",
];

/**
 * The primary code of a SQLite error. libsql names the extended codes it knows (`SQLITE_IOERR_WRITE`) and
 * calls the others `UNKNOWN_SQLITE_ERROR_<number>`: SQLITE_READONLY_DIRECTORY (1544, a database folder the
 * gateway may not write) was one, so the store did not see an unwritable database in it.
 */
function primaryCode(error) {
  const known = /^(SQLITE_[A-Z]+)/.exec(error.code)?.[1];
  return known ?? PRIMARY_CODES[error.rawCode & 0xff] ?? error.code;
}

/** A SQLite error as @libsql/client reports it: the primary code as `code`, the extended one beside it. */
function clientError(error) {
  if (!(error instanceof Database.SqliteError)) return error;
  const code = primaryCode(error);
  const named = error.code.startsWith("SQLITE_") ? error.code : code;
  return Object.assign(new Error(`${named}: ${error.message}`), {
    name: "LibsqlError",
    code,
    extendedCode: error.code,
    rawCode: error.rawCode,
  });
}

/**
 * A local database file through libsql's own API, which @libsql/client wraps: the same operations and result
 * sets, but each statement is prepared once and kept instead of prepared (and probed for rows) on every call.
 */
function fileClient(path) {
  const db = new Database(path);
  const statements = new Map();
  const prepared = (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      if (statements.size >= MAX_PREPARED) statements.delete(statements.keys().next().value);
      statements.set(sql, statement);
    }
    return statement;
  };
  const execute = (statement) => {
    const { sql, args = [] } = typeof statement === "string" ? { sql: statement } : statement;
    try {
      const query = prepared(sql);
      const values = Array.isArray(args) ? args.map(bindable) : Object.fromEntries(Object.entries(args).map(([k, v]) => [k.replace(/^[@$:]/, ""), bindable(v)]));
      if (query.reader) {
        const columns = query.columns();
        return {
          columns: columns.map((column) => column.name),
          columnTypes: columns.map((column) => column.type ?? ""),
          rows: query.raw(true).all(values).map((row) => row.map((value) => (Buffer.isBuffer(value) ? value.buffer : value))),
          rowsAffected: 0,
          lastInsertRowid: undefined,
        };
      }
      const info = query.run(values);
      return { columns: [], columnTypes: [], rows: [], rowsAffected: info.changes, lastInsertRowid: BigInt(info.lastInsertRowid) };
    } catch (error) {
      throw clientError(error);
    }
  };
  const transaction = (begin, list) => {
    execute(begin);
    try {
      const results = list.map(execute);
      execute("COMMIT");
      return results;
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    }
  };
  return {
    execute: async (statement) => execute(statement),
    batch: async (list, mode = "deferred") => transaction(BEGIN[mode], list),
    migrate: async (list) => {
      execute("PRAGMA foreign_keys=off");
      try {
        return transaction(BEGIN.deferred, list);
      } finally {
        execute("PRAGMA foreign_keys=on");
      }
    },
    close: () => db.close(),
  };
}

/** A result set as data: each row's values in column order, which the other side turns back into rows. */
const plain = (result) => ({
  columns: result.columns,
  columnTypes: result.columnTypes,
  rows: result.rows.map((row) => Array.from(row)),
  rowsAffected: result.rowsAffected,
  lastInsertRowid: result.lastInsertRowid,
});

/** A libSQL server (or anything but a plain file) through @libsql/client. */
function serverClient(config) {
  const client = createClient(config);
  return {
    execute: (statement) => client.execute(statement).then(plain),
    batch: (list, mode) => client.batch(list, mode).then((results) => results.map(plain)),
    migrate: (list) => client.migrate(list).then((results) => results.map(plain)),
    close: () => client.close(),
  };
}

const path = filePath(workerData.url);
const operations = path === null ? serverClient(workerData) : fileClient(path);

/** The error's message and its causes' (a server's "fetch failed" says why only in its cause), which do not cross to the other side. */
function messageWithCauses(error) {
  const messages = [];
  for (let cause = error; cause instanceof Error && messages.length < 4; cause = cause.cause) {
    if (!messages.some((message) => message.includes(cause.message))) messages.push(cause.message);
  }
  return messages.join(": ");
}

/**
 * The first of the error's and its causes' `key`: a server's "fetch failed" has its kind (ECONNREFUSED) only
 * in its cause, and an HTTP error its status, and the causes do not cross to the other side.
 */
function firstOf(error, key) {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth += 1) {
    if (cause[key] !== undefined) return cause[key];
  }
  return undefined;
}

parentPort.on("message", async ({ id, operation, args }) => {
  try {
    parentPort.postMessage({ id, result: await operations[operation](...args) });
  } catch (error) {
    const { name, extendedCode, rawCode } = error;
    const [code, status] = [firstOf(error, "code"), firstOf(error, "status")];
    parentPort.postMessage({ id, error: { name, message: messageWithCauses(error), code, status, extendedCode, rawCode } });
  }
});

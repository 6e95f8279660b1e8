import { Worker } from "node:worker_threads";
import type { Client, Config, InStatement, ResultSet, Row, TransactionMode } from "@libsql/client";

// SQLite runs in the calling thread: each statement, and the disk sync of each commit, would hold up the
// event loop that serves ingest and deliveries. So the connection lives in a worker thread, and the gateway
// talks to it through this client, which does what drizzle asks of a libSQL client (execute, batch, migrate).

interface PlainResult {
  columns: string[];
  columnTypes: string[];
  rows: unknown[][];
  rowsAffected: number;
  lastInsertRowid: bigint | undefined;
}

interface Reply {
  id: number;
  result?: PlainResult | PlainResult[];
  /** With the codes of the error or else of its causes (see the thread's `firstOf`), and a server's HTTP status. */
  error?: { name: string; message: string; code?: string; status?: number; extendedCode?: string; rawCode?: number };
}

/** A row as libSQL gives it: values by index (not enumerable) and by column name. */
function rowOf(values: unknown[], columns: string[]): Row {
  const row = {};
  Object.defineProperty(row, "length", { value: values.length });
  values.forEach((value, i) => {
    Object.defineProperty(row, i, { value });
    if (!Object.hasOwn(row, columns[i])) {
      Object.defineProperty(row, columns[i], { value, enumerable: true, configurable: true, writable: true });
    }
  });
  return row as Row;
}

function resultSetOf(plain: PlainResult): ResultSet {
  const rows = plain.rows.map((values) => rowOf(values, plain.columns));
  return { ...plain, rows, toJSON: () => ({ ...plain }) };
}

/** The error as thrown in the thread: same name, message and codes (the store recognises duplicates and outages by them). */
function errorOf(error: NonNullable<Reply["error"]>): Error {
  return Object.assign(new Error(error.message), error);
}

/** A client that cannot reach its database any more, as @libsql/client reports one. */
const clientClosed = (message: string) => Object.assign(new Error(message), { name: "LibsqlError", code: "CLIENT_CLOSED" });

/** A libSQL client whose connection is in its own worker thread. */
export function threadedClient(config: Config): Client {
  const worker = new Worker(new URL("./node-database-thread.mjs", import.meta.url), { workerData: config });
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: unknown) => void }>();
  let nextId = 0;
  let closed = false;
  /** Why the thread is gone, if it is: every call from then on fails at once instead of waiting forever. */
  let gone: Error | null = null;
  // Only a call in progress keeps the process alive.
  worker.unref();

  worker.on("message", ({ id, result, error }: Reply) => {
    const call = pending.get(id)!;
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    if (error) call.reject(errorOf(error));
    else call.resolve(result);
  });
  const fail = (error: Error) => {
    gone ??= error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker.on("error", (error) => fail(clientClosed(`The database thread failed: ${error.message}`)));
  worker.on("exit", (code) => fail(clientClosed(`The database thread stopped (exit code ${code})`)));

  function call<T>(operation: string, ...args: unknown[]): Promise<T> {
    if (closed) return Promise.reject(clientClosed("The database client is closed"));
    if (gone) return Promise.reject(gone);
    const id = (nextId += 1);
    worker.ref();
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      worker.postMessage({ id, operation, args });
    });
  }

  const statementOf = (statement: InStatement | string, args?: unknown) =>
    typeof statement === "string" ? { sql: statement, args: args ?? [] } : statement;
  const unsupported = (what: string) => () => Promise.reject(new Error(`${what} is not offered by the gateway's database client`));

  const client = {
    protocol: "file",
    get closed() {
      return closed;
    },
    execute: (statement: InStatement | string, args?: unknown) =>
      call<PlainResult>("execute", statementOf(statement, args)).then(resultSetOf),
    batch: (statements: InStatement[], mode?: TransactionMode) =>
      call<PlainResult[]>("batch", statements, mode).then((results) => results.map(resultSetOf)),
    migrate: (statements: InStatement[]) => call<PlainResult[]>("migrate", statements).then((results) => results.map(resultSetOf)),
    transaction: unsupported("transaction"),
    executeMultiple: unsupported("executeMultiple"),
    sync: unsupported("sync"),
    reconnect: unsupported("reconnect"),
    close() {
      if (closed) return;
      // Closing a thread that already stopped, or whose close failed, still ends it: nothing to report.
      const terminate = () => void worker.terminate();
      call("close").then(terminate, terminate);
      closed = true;
    },
  };
  return client as unknown as Client;
}

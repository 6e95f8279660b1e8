// The libSQL connection, in a worker thread of its own (see node-database-client.ts). Plain JavaScript: Node
// starts a worker thread outside the TypeScript loader of `npm start` and of the test runner.
import { parentPort, workerData } from "node:worker_threads";
import { createClient } from "@libsql/client";

const client = createClient(workerData);

/** A result set as data: each row's values in column order, which the other side turns back into rows. */
const plain = (result) => ({
  columns: result.columns,
  columnTypes: result.columnTypes,
  rows: result.rows.map((row) => Array.from(row)),
  rowsAffected: result.rowsAffected,
  lastInsertRowid: result.lastInsertRowid,
});

const operations = {
  execute: (statement) => client.execute(statement).then(plain),
  batch: (statements, mode) => client.batch(statements, mode).then((results) => results.map(plain)),
  migrate: (statements) => client.migrate(statements).then((results) => results.map(plain)),
  close: async () => client.close(),
};

parentPort.on("message", async ({ id, operation, args }) => {
  try {
    parentPort.postMessage({ id, result: await operations[operation](...args) });
  } catch (error) {
    const { name, message, code, extendedCode, rawCode } = error;
    parentPort.postMessage({ id, error: { name, message, code, extendedCode, rawCode } });
  }
});

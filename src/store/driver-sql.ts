import { getTableColumns, getTableName } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { chunked } from "./database.js";

// The writes of the hot path (ingest commits, delivery outcomes), as SQL text and values for the driver under
// drizzle. Drizzle builds a statement's text anew for each row it is given; here the text of each statement
// shape is built once and kept, and only the values change. The columns and their encodings (JSON, booleans)
// still come from the drizzle schema.

/** A value as the drivers bind it (libSQL and D1 alike). */
type DriverValue = string | number | null;

/** A statement as the driver takes it: SQL text and its bound values. */
export interface DriverStatement {
  sql: string;
  args: DriverValue[];
}

/** The driver under drizzle (libSQL or D1), for the store's prebuilt writes. */
export interface Driver {
  /** Runs statements in order as one atomic transaction; resolves with how many rows each changed. */
  batch(statements: DriverStatement[]): Promise<number[]>;
  /** How many values one statement may bind: D1 takes 100, SQLite 32,766. */
  maxBoundParameters: number;
}

const quoted = (name: string) => `"${name}"`;

/** A column's name as SQL text takes it. */
export const columnSql = (column: SQLiteColumn) => quoted(column.name);

interface ColumnEntry {
  key: string;
  column: SQLiteColumn;
}

/** The value drizzle would bind for this column: encoded (JSON text, 0/1), or the column's default when absent. */
function driverValue(column: SQLiteColumn, value: unknown): DriverValue {
  if (value === undefined) value = column.default ?? column.defaultFn?.() ?? null;
  return value === null ? null : (column.mapToDriverValue(value) as DriverValue);
}

/** What to do when an inserted row meets an existing one with the same `target` columns: take its `set` columns. */
interface Upsert {
  target: SQLiteColumn[];
  set: SQLiteColumn[];
}

/** Inserts into one table, in statements of as many rows as the driver's bound-parameter limit allows. */
export interface RowWriter {
  statements(rows: readonly object[], maxBoundParameters: number): DriverStatement[];
}

const columnEntries = (table: SQLiteTable): ColumnEntry[] =>
  Object.entries(getTableColumns(table)).map(([key, column]) => ({ key, column: column as SQLiteColumn }));

/** A row's values in the order of `columns`, as the driver binds them. */
const rowArgs = (columns: ColumnEntry[], row: object): DriverValue[] =>
  columns.map(({ key, column }) => driverValue(column, (row as Record<string, unknown>)[key]));

/** `insert into "table" ("column", ...)`: what every insert into the table starts with. */
const insertInto = (table: SQLiteTable, columns: ColumnEntry[]) =>
  `insert into ${quoted(getTableName(table))} (${columns.map(({ column }) => quoted(column.name)).join(", ")})`;

/** Multi-row inserts into `table` (upserts if `upsert` is given); each statement's text is built once per row count. */
export function rowWriter(table: SQLiteTable, upsert?: Upsert): RowWriter {
  const columns = columnEntries(table);
  const head = `${insertInto(table, columns)} values `;
  const rowPlaceholders = `(${columns.map(() => "?").join(", ")})`;
  const tail = upsert
    ? ` on conflict (${upsert.target.map((column) => quoted(column.name)).join(", ")}) do update set ${upsert.set
        .map((column) => `${quoted(column.name)} = excluded.${quoted(column.name)}`)
        .join(", ")}`
    : "";
  const texts = new Map<number, string>();
  const textFor = (count: number) => {
    let text = texts.get(count);
    if (!text) texts.set(count, (text = head + Array(count).fill(rowPlaceholders).join(", ") + tail));
    return text;
  };

  const statement = (chunk: readonly object[]): DriverStatement => ({ sql: textFor(chunk.length), args: chunk.flatMap((row) => rowArgs(columns, row)) });
  return {
    statements: (rows, maxBoundParameters) => chunked(rows, columns.length, 0, maxBoundParameters).map(statement),
  };
}

/** A condition the row an update is for must still meet: SQL over its columns (see `columnSql`), and its values. */
export interface Guard {
  sql: string;
  args: DriverValue[];
}

/**
 * Inserts one row into `table` only if the `guard` holds when the statement runs (it names no column of the
 * row: it is a condition on the table as it is then); the driver's count tells whether it was inserted.
 */
export function insertWhere(table: SQLiteTable, row: object, guard: Guard): DriverStatement {
  const columns = columnEntries(table);
  return {
    sql: `${insertInto(table, columns)} select ${columns.map(() => "?").join(", ")} where ${guard.sql}`,
    args: [...rowArgs(columns, row), ...guard.args],
  };
}

/**
 * Sets the given fields (those not undefined) of the row whose `key` column equals `keyValue`, and only if
 * it still meets the `guard` when one is given.
 */
export function updateStatement(table: SQLiteTable, key: SQLiteColumn, keyValue: string, changes: object, guard?: Guard): DriverStatement {
  const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
  const set = Object.entries(changes).filter(([, value]) => value !== undefined);
  const assignments = set.map(([name]) => `${quoted(columns[name].name)} = ?`).join(", ");
  const where = `${quoted(key.name)} = ?${guard ? ` and (${guard.sql})` : ""}`;
  return {
    sql: `update ${quoted(getTableName(table))} set ${assignments} where ${where}`,
    args: [...set.map(([name, value]) => driverValue(columns[name], value)), keyValue, ...(guard?.args ?? [])],
  };
}

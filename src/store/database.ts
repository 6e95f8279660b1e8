import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema.js";

/** A drizzle database over libSQL (Node) or D1 (Workers): both run a batch as one atomic transaction. */
export type Database = BaseSQLiteDatabase<"async", unknown, typeof schema> & {
  batch<U extends BatchItem<"sqlite">, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<BatchResponse<T>>;
};

/** D1 binds at most 100 parameters per statement; every multi-row statement is cut to fit. */
export const MAX_BOUND_PARAMETERS = 100;

/** Cuts `items` so that a statement binding `parametersPerItem` for each, plus `reserved` others, fits `limit`. */
export function chunked<T>(items: readonly T[], parametersPerItem: number, reserved = 0, limit = MAX_BOUND_PARAMETERS): T[][] {
  const size = Math.max(1, Math.floor((limit - reserved) / parametersPerItem));
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Cursor paging over ids, which sort by creation time: newest first. */
export interface Page {
  cursor?: string;
  limit: number;
}

export function pageOf<T extends { id: string }>(rows: T[], limit: number): { data: T[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  return { data, next_cursor: rows.length > limit ? data[data.length - 1].id : null };
}

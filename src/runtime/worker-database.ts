import type { D1Database } from "@cloudflare/workers-types";
import { drizzle } from "drizzle-orm/d1";
import type { Database } from "../store/database.js";
import type { DriverBatch } from "../store/driver-sql.js";
import * as schema from "../store/schema.js";

/** D1 through drizzle, and D1's own batch (one transaction) for the store's prebuilt writes. */
export function workerDatabase(d1: D1Database): { db: Database; batch: DriverBatch } {
  const db = drizzle(d1 as never, { schema }) as unknown as Database;
  const batch: DriverBatch = async (statements) => {
    await d1.batch(statements.map(({ sql, args }) => d1.prepare(sql).bind(...args)));
  };
  return { db, batch };
}

import type { D1Database } from "@cloudflare/workers-types";
import { drizzle } from "drizzle-orm/d1";
import { MAX_BOUND_PARAMETERS, type Database } from "../store/database.js";
import type { Driver } from "../store/driver-sql.js";
import * as schema from "../store/schema.js";

/** D1 through drizzle, and D1's own batch (one transaction) for the store's prebuilt writes. */
export function workerDatabase(d1: D1Database): { db: Database; driver: Driver } {
  const db = drizzle(d1 as never, { schema }) as unknown as Database;
  const driver: Driver = {
    batch: async (statements) => (await d1.batch(statements.map(({ sql, args }) => d1.prepare(sql).bind(...args)))).map((result) => result.meta.changes),
    maxBoundParameters: MAX_BOUND_PARAMETERS,
  };
  return { db, driver };
}

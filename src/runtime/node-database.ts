import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import * as schema from "../store/schema.js";
import type { Database } from "../store/database.js";
import type { Driver } from "../store/driver-sql.js";
import { threadedClient } from "./node-database-client.js";

const MIGRATIONS = fileURLToPath(new URL("../store/migrations", import.meta.url));

/** Opens the libSQL database (a local file by default, or a libSQL server) and applies pending migrations. */
export async function openDatabase(url: string, authToken?: string): Promise<{ db: Database; driver: Driver; client: Client }> {
  if (url.startsWith("file:")) mkdirSync(dirname(resolve(url.slice("file:".length))), { recursive: true });
  const client = threadedClient({ url, authToken });
  if (url.startsWith("file:")) {
    // WAL lets the dispatcher read while ingest writes; FULL syncs each commit, so an acknowledged event
    // survives a power cut, not just a crash of the process.
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = FULL");
    await client.execute("PRAGMA busy_timeout = 5000");
  }
  const db = drizzle(client, { schema }) as unknown as Database;
  await migrate(db as never, { migrationsFolder: MIGRATIONS });
  const driver: Driver = {
    batch: async (statements) => void (await client.batch(statements, "write")),
    maxBoundParameters: 32_766,
  };
  return { db, driver, client };
}

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import Libsql from "libsql";
import * as schema from "../store/schema.js";
import type { Database } from "../store/database.js";
import type { Driver } from "../store/driver-sql.js";
import { threadedClient } from "./node-database-client.js";

const MIGRATIONS = fileURLToPath(new URL("../store/migrations", import.meta.url));

/** The file of a `file:` URL, its folder created if need be; null for a libSQL server. */
function localFile(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const file = resolve(url.slice("file:".length));
  mkdirSync(dirname(file), { recursive: true });
  return file;
}

/** A libSQL server that the gateway cannot use (down, or refusing the token), in a line a person can act on. */
export class DatabaseServerError extends Error {
  constructor(url: string, error: unknown) {
    let cause = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    const reason = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    super(`The database (DATABASE_URL=${url}) cannot be used: ${reason}. Check that the libSQL server is up, and DATABASE_URL and DATABASE_AUTH_TOKEN`, { cause: error });
  }
}

/** Opens the libSQL database (a local file by default, or a libSQL server) and applies pending migrations. */
export async function openDatabase(url: string, authToken?: string): Promise<{ db: Database; driver: Driver; client: Client }> {
  localFile(url); // its folder, made if need be
  const client = threadedClient({ url, authToken });
  const db = drizzle(client, { schema }) as unknown as Database;
  if (url.startsWith("file:")) {
    // WAL lets the dispatcher read while ingest writes; FULL syncs each commit, so an acknowledged event
    // survives a power cut, not just a crash of the process.
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = FULL");
    await client.execute("PRAGMA busy_timeout = 5000");
    await migrate(db as never, { migrationsFolder: MIGRATIONS });
  } else {
    // A server's first answer comes here: one that is down, or refuses the token, is a line, not a failed query.
    await migrate(db as never, { migrationsFolder: MIGRATIONS }).catch((error: unknown) => {
      client.close();
      throw new DatabaseServerError(url, error);
    });
  }
  const driver: Driver = {
    batch: async (statements) => (await client.batch(statements, "write")).map((result) => result.rowsAffected),
    maxBoundParameters: 32_766,
  };
  return { db, driver, client };
}

/** Another gateway process holds the database. */
export class DatabaseInUseError extends Error {}

// One gateway process per database: its start applies migrations, seals secrets with the key it is given and
// takes back every delivery in flight, and it keeps sources and rules in memory. A second process on the same
// file (`npm start` run again, a supervisor starting one before the last has exited) would do all that under
// the first, even if it then found the port taken. So a gateway holds SQLite's exclusive lock on an empty
// database beside its own for as long as it runs; the system drops it when the process ends, however it ends.

/**
 * The lock file, opened; libsql says only `ConnectionFailed("...: 14")` when it cannot (a folder the gateway
 * may not write), so the failure is given SQLite's code for it, and the start says so in its line.
 */
function openLockFile(path: string): Libsql.Database {
  try {
    return new Libsql(path);
  } catch (error) {
    throw Object.assign(new Error(`SQLITE_CANTOPEN: cannot open or create ${path}`, { cause: error }), { code: "SQLITE_CANTOPEN" });
  }
}

/** Takes the database's lock for this process, or throws DatabaseInUseError; a libSQL server has none. */
export function lockDatabase(url: string): { release(): void } {
  const file = localFile(url);
  if (file === null) return { release() {} };
  const lock = openLockFile(`${file}-lock`);
  try {
    // Nothing is written: no journal file beside it, and no wait for a lock that is held.
    lock.exec("PRAGMA journal_mode = MEMORY");
    lock.exec("PRAGMA busy_timeout = 0");
    lock.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
    throw new DatabaseInUseError(`Another gateway process runs on ${file} (it holds ${file}-lock): stop it first, as one process per database is supported`);
  }
  return { release: () => lock.close() };
}

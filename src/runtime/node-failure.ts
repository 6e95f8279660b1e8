import { DEFAULT_DATABASE_URL } from "../config.js";
import { GatewayError } from "../domain/errors.js";
import { EncryptionKeyError } from "../domain/secret-box.js";
import { storageFailure } from "../store/storage-failure.js";
import { DatabaseInUseError, DatabaseServerError } from "./node-database.js";

// How the Node commands (`npm start`, `npm run admin-token`) end when they cannot do their work: with a line a
// person can act on, and exit code 1.

const databaseUrl = () => process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

/** Why a command could not go on, in a line a person can act on; null for anything else (a bug: its stack is printed). */
function failureLine(error: unknown): string | null {
  if (error instanceof GatewayError || error instanceof EncryptionKeyError) return `Configuration error: ${error.message}`;
  if (error instanceof DatabaseInUseError || error instanceof DatabaseServerError) return error.message;
  const { code, syscall, address, port, hostname, path } = error as { code?: string; syscall?: string; address?: string; port?: number; hostname?: string; path?: string };
  if (syscall === "listen" && code === "EADDRINUSE") return `Port ${port} is taken on ${address}: stop what listens there, or set PORT to another port`;
  if (syscall === "listen" && code === "EACCES") return `Not allowed to listen on port ${port}: use a port above 1023, or set PORT`;
  // HOST is not an address of this machine, or a name that does not resolve (listening is all start resolves).
  if ((syscall === "listen" && code === "EADDRNOTAVAIL") || syscall === "getaddrinfo") {
    return `Cannot listen on ${address ?? hostname} (${code}): set HOST to an address of this machine, or 0.0.0.0 for all`;
  }
  // A damaged file, or not a database at all: most often a restore that left the old file's gateway.db-wal
  // beside the backup (SQLite replays it onto the backup), or DATABASE_URL naming some other file.
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code ?? "")) {
    return `The database (DATABASE_URL=${databaseUrl()}) is damaged or not a database: ${(error as Error).message}. Restore it from a backup: delete the -wal and -shm files beside it (they belong to the file a backup replaces), then copy the backup in its place`;
  }
  // A file the start makes beside the database (its folder, the key file) it may not, or where a file is.
  const unavailable = storageFailure(error) ?? (path !== undefined && syscall !== undefined ? (error as Error).message : null);
  if (unavailable) return `The database (DATABASE_URL=${databaseUrl()}) cannot be used: ${unavailable}. Free some disk space, or check the folder's permissions, and try again`;
  return null;
}

/** Prints why the command failed (the stack only for what `failureLine` does not know) and exits 1. */
export function exitWithReason(error: unknown): never {
  console.error(failureLine(error) ?? error);
  process.exit(1);
}

import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Libsql from "libsql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, ingest } from "./support/gateway-api.js";
import { clientAt, spawnGateway } from "./support/gateway-process.js";
import { onSmallDisk } from "./support/small-disk.js";

// `npm start` that cannot start says why in one line a person can act on, and exits 1: no stack trace for a
// port already taken or a database it cannot write.

let dir: string;
const TEST_KEY = randomBytes(32).toString("base64");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gateway-start-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What the gateway printed before it exited (spawnGateway rejects with it when the process ends before listening). */
async function startFailure(options: Parameters<typeof spawnGateway>[0]): Promise<string> {
  const started = spawnGateway({ ...options, logLevel: "info" });
  const error = await started.then(
    async (gateway) => {
      await gateway.kill();
      throw new Error("the gateway started");
    },
    (failure: Error) => failure,
  );
  return error.message;
}

function listenAnywhere(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => resolve(server));
  });
}

describe("npm start that cannot start", () => {
  it("names a port that is taken, and PORT; the first start that then succeeds shows the admin token", async () => {
    const taken = await listenAnywhere();
    const { port } = taken.address() as { port: number };
    // No ADMIN_TOKEN: the gateway makes one at its first start, and shows it once.
    const first = { databaseFile: join(dir, "port.db"), env: { ADMIN_TOKEN: "" } };
    try {
      const output = await startFailure({ ...first, port });
      expect(output).toMatch(/exited \(1\) before listening/);
      expect(output).toContain(`Port ${port} is taken on 127.0.0.1: stop what listens there, or set PORT to another port`);
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
    const started = await spawnGateway({ ...first, logLevel: "info" });
    try {
      expect(started.printed).toMatch(/Admin token \(shown once; keep it\): adm_\S+/);
    } finally {
      await started.kill();
    }
  });

  it("names a database it cannot write, and what to do", async () => {
    // A disk with no room at all: the gateway runs in its own mount namespace on a tmpfs filled up first.
    const full = join(dir, "full");
    const onFullDisk = onSmallDisk(full, "64k", `cat /dev/zero > "$0/filler" 2>/dev/null`);
    const output = await startFailure({ databaseFile: join(full, "gateway.db"), wrap: onFullDisk });
    expect(output).toMatch(/exited \(1\) before listening/);
    expect(output).toContain(`The database (DATABASE_URL=file:${join(full, "gateway.db")}) cannot be used: SQLITE_FULL: database or disk is full.`);
    expect(output).toContain("Free some disk space, or check the folder's permissions, and try again");
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("names a database folder it cannot make, and what to do", async () => {
    // A data folder where a file is (the same line for one it may not write, EACCES, when not run as root).
    const aFile = join(dir, "not-a-folder");
    writeFileSync(aFile, "");
    const output = await startFailure({ databaseFile: join(aFile, "data", "gateway.db") });
    expect(output).toMatch(/exited \(1\) before listening/);
    expect(output).toContain(`The database (DATABASE_URL=file:${join(aFile, "data", "gateway.db")}) cannot be used: `);
    expect(output).toContain(`ENOTDIR: not a directory, mkdir '${join(aFile, "data")}'. Free some disk space, or check the folder's permissions, and try again`);
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("names a database folder it may not write, with its database in it or not yet, and what to do", async () => {
    // In a user namespace of its own (`unshare -U`) even root is held to the folder's mode, as the gateway's
    // own user is on a server where the folder is not its own.
    const asItsOwnUser = (command: string[]) => ["unshare", "-U", ...command];
    const empty = join(dir, "read-only-empty");
    const used = join(dir, "read-only-used");
    mkdirSync(empty);
    // A database and its lock file there, but no journal yet (a copied-in backup): opening it makes one.
    mkdirSync(used);
    new Libsql(join(used, "gateway.db")).close();
    writeFileSync(join(used, "gateway.db-lock"), "");
    for (const folder of [empty, used]) chmodSync(folder, 0o555);
    try {
      // Before: a stack trace of libsql's `ConnectionFailed(... 14)` for the lock file beside the database, and
      // with the database there, of `UNKNOWN_SQLITE_ERROR_1544` (SQLITE_READONLY_DIRECTORY: no journal beside it).
      for (const [folder, reason] of [[empty, `SQLITE_CANTOPEN: cannot open or create ${join(empty, "gateway.db-lock")}`], [used, "SQLITE_READONLY: attempt to write a readonly database"]]) {
        const file = join(folder, "gateway.db");
        const output = await startFailure({ databaseFile: file, env: { ENCRYPTION_KEY: TEST_KEY }, wrap: asItsOwnUser });
        expect(output).toMatch(/exited \(1\) before listening/);
        expect(output).toContain(`The database (DATABASE_URL=file:${file}) cannot be used: ${reason}. Free some disk space, or check the folder's permissions, and try again`);
        expect(output).not.toMatch(/\n\s+at /);
      }
    } finally {
      for (const folder of [empty, used]) chmodSync(folder, 0o755);
    }
  });

  it("names a database that is damaged or not a database, and how to restore it", async () => {
    // Not a database: DATABASE_URL naming some other file.
    const text = join(dir, "notes.db");
    writeFileSync(text, "not a database, but long enough to be read as a database header would be\n".repeat(4));
    // Damaged: the page holding its tables' definitions overwritten (as a stale gateway.db-wal left beside a
    // restored backup does when SQLite replays it onto the backup).
    const damaged = join(dir, "damaged.db");
    const db = new Libsql(damaged);
    db.exec("CREATE TABLE events (id TEXT PRIMARY KEY, body TEXT); INSERT INTO events VALUES ('evt_1', 'x')");
    db.close();
    const bytes = readFileSync(damaged);
    bytes.fill(0xa5, 100, 4096);
    writeFileSync(damaged, bytes);
    for (const [file, reason] of [[text, "SQLITE_NOTADB: file is not a database"], [damaged, "SQLITE_CORRUPT: "]]) {
      // Before: a stack trace of the database client's error.
      const output = await startFailure({ databaseFile: file });
      expect(output).toMatch(/exited \(1\) before listening/);
      expect(output).toContain(`The database (DATABASE_URL=file:${file}) is damaged or not a database: ${reason}`);
      expect(output).toContain("Restore it from a backup: delete the -wal and -shm files beside it (they belong to the file a backup replaces), then copy the backup in its place");
      expect(output).not.toMatch(/\n\s+at /);
    }
  });

  it("names a HOST it cannot listen on, and a DATABASE_URL it cannot use", async () => {
    for (const host of ["192.0.2.1", "gateway.invalid"]) {
      const output = await startFailure({ databaseFile: join(dir, "host.db"), env: { HOST: host } });
      expect(output).toMatch(/exited \(1\) before listening/);
      expect(output).toMatch(new RegExp(`Cannot listen on ${host.replace(/\./g, "\\.")} \\((EADDRNOTAVAIL|ENOTFOUND)\\): set HOST to an address of this machine, or 0\\.0\\.0\\.0 for all`));
      expect(output).not.toMatch(/\n\s+at /);
    }
    const output = await startFailure({ databaseFile: join(dir, "url.db"), env: { DATABASE_URL: "postgres://db.example/gateway" } });
    expect(output).toContain("Configuration error: DATABASE_URL: must start with file:, libsql:, http(s): or ws(s):");
    expect(output).not.toMatch(/\n\s+at /);
    // Before: each started on a database gone at its stop (`file:` from `file:$UNSET_VAR`, or in memory), its
    // key file written beside the working folder. The key is given so that a start cannot write one there.
    for (const url of ["file:", "file://", "file::memory:"]) {
      const output = await startFailure({ databaseFile: join(dir, "unused.db"), env: { DATABASE_URL: url, ENCRYPTION_KEY: TEST_KEY } });
      expect(output).toMatch(/exited \(1\) before listening/);
      expect(output).toContain("Configuration error: DATABASE_URL: file: needs the database file's path, e.g. file:./data/gateway.db");
      expect(output).not.toMatch(/\n\s+at /);
    }
  });

  it("names a libSQL server it cannot use, unreachable or refusing the token", async () => {
    const closed = await listenAnywhere();
    const { port } = closed.address() as { port: number };
    closed.close();
    const down = await startFailure({ databaseFile: join(dir, "unused.db"), env: { DATABASE_URL: `http://127.0.0.1:${port}` } });
    expect(down).toContain(
      `The database (DATABASE_URL=http://127.0.0.1:${port}) cannot be used: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}. ` +
        "Check that the libSQL server is up, and DATABASE_URL and DATABASE_AUTH_TOKEN",
    );
    expect(down).not.toMatch(/\n\s+at /);

    const refusing = createHttpServer((_, reply) => reply.writeHead(401).end("Unauthorized"));
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`;
    try {
      const output = await startFailure({ databaseFile: join(dir, "unused.db"), env: { DATABASE_URL: url, DATABASE_AUTH_TOKEN: "wrong" } });
      expect(output).toMatch(new RegExp(`The database \\(DATABASE_URL=${url}\\) cannot be used: .*401.*\\. Check that the libSQL server is up`));
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      refusing.close();
    }
  });

  it("names a setting it does not take, even one that is a name every object has", async () => {
    // `LOG_LEVEL=constructor` once passed (an `in` check found Object.prototype.constructor) and logged everything.
    for (const level of ["loud", "constructor", "toString"]) {
      const output = await startFailure({ databaseFile: join(dir, "level.db"), env: { LOG_LEVEL: level } });
      expect(output).toMatch(/exited \(1\) before listening/);
      expect(output).toContain("LOG_LEVEL: must be debug, info, warn, error or silent");
      expect(output).not.toMatch(/\n\s+at /);
    }
  });

  it("names a variable that looks like a setting but is not one, and the setting it was likely meant to be", async () => {
    const started = await spawnGateway({
      databaseFile: join(dir, "misspelled.db"),
      env: { RETENTION_DAY: "7", ingest_burst: "50", OUTBOUND_ALLOWED: "127.0.0.0/8", HOME_DIR: "/srv", TERM: "xterm" },
    });
    try {
      expect(started.printed).toContain("Not a setting, not read: RETENTION_DAY (did you mean RETENTION_DAYS?)");
      expect(started.printed).toContain("Not a setting, not read: ingest_burst (did you mean INGEST_BURST?)");
      expect(started.printed).toContain("Not a setting, not read: OUTBOUND_ALLOWED (did you mean OUTBOUND_ALLOW?)");
      // Names of other programs' settings, however near a short one (HOST, PORT), are left alone.
      expect(started.printed).not.toMatch(/HOME_DIR|TERM \(/);
      expect(started.printed).toContain("Retention: events and deliveries deleted after 30 days (RETENTION_DAYS)");
    } finally {
      await started.kill();
    }
  });

  it("refuses a second gateway on the database another one runs on, before touching it: a key rotation started by mistake leaves the first one working", async () => {
    const databaseFile = join(dir, "shared.db");
    const first = await spawnGateway({ databaseFile });
    try {
      const admin = clientAt(first.url);
      const source = await createSource(admin);
      // Started again beside it, as to rotate the key: it used to seal every secret with the new key and only
      // then find the port taken, and the first gateway could open none of them (500 to every request).
      const oldKey = readFileSync(join(dir, "encryption.key"), "utf8").trim();
      const newKey = Buffer.alloc(32, 7).toString("base64");
      const output = await startFailure({ databaseFile, port: first.port, env: { ENCRYPTION_KEY: `${newKey},${oldKey}` } });
      expect(output).toMatch(/exited \(1\) before listening/);
      expect(output).toContain(`Another gateway process runs on ${databaseFile} (it holds ${databaseFile}-lock): stop it first, as one process per database is supported`);
      expect(output).not.toMatch(/\n\s+at /);
      expect((await ingest(admin, source, callEvent())).status).toBe(202);
      expect((await admin.api("GET", "/api/sources")).status).toBe(200);
    } finally {
      await first.kill();
    }
    // Once the first has stopped, the database is free again.
    const next = await spawnGateway({ databaseFile });
    await next.kill();
  });
});

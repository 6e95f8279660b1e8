import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, ENCRYPTION_KEY, ingest } from "./support/gateway-api.js";
import { clientAt, spawnGateway, type ChildServer } from "./support/gateway-process.js";
import { LibsqlServerStandIn, type Failure } from "./support/libsql-server-standin.js";

// `npm start` on a libSQL server (DATABASE_URL=http://...) that drops mid-run: what it cannot store it does
// not acknowledge, and it tells the PBX to come back later (503 storage_unavailable, as for a full disk),
// not that the gateway broke (500); once the server is back it goes on without a restart. The server is a
// stand-in speaking Hrana over HTTP on 127.0.0.1 (test/support/libsql-server-standin.ts).

let dir: string;
let server: LibsqlServerStandIn;
let gateway: ChildServer;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-libsql-server-"));
  server = await new LibsqlServerStandIn(join(dir, "server.db"), "server-token").start();
  gateway = await spawnGateway({
    databaseFile: join(dir, "unused.db"),
    env: { DATABASE_URL: server.url, DATABASE_AUTH_TOKEN: "server-token", ENCRYPTION_KEY },
  });
});
afterEach(async () => {
  await gateway.kill();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Each way the server fails, and the words the 503 gives for it: its kind, not the server's address or page. */
const FAILURES: Array<[string, Failure, string]> = [
  ["down (connection refused)", { kind: "down" }, "database server unreachable: ECONNREFUSED"],
  ["cutting each connection without a reply", { kind: "cut" }, "database server unreachable: UND_ERR_SOCKET"],
  ["answering 502 (its proxy, say)", { kind: "status", status: 502 }, "database server answered HTTP 502"],
  ["answering 503", { kind: "status", status: 503 }, "database server answered HTTP 503"],
];

describe("a libSQL server that drops mid-run", () => {
  it("each way it fails: ingest and the API answer 503 storage_unavailable with Retry-After, and all goes on once it is back", async () => {
    const admin = clientAt(gateway.url);
    const source = await createSource(admin);
    expect((await ingest(admin, source, callEvent())).status).toBe(202);
    let acknowledged = 1;

    for (const [how, failure, words] of FAILURES) {
      await server.fail(failure);
      const refused = await ingest(admin, source, callEvent());
      expect(refused.status, how).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("30");
      expect(refused.body.error.code).toBe("storage_unavailable");
      expect(refused.body.error.message).toBe(`The database cannot take this now (${words}): nothing was changed; retry later`);
      const read = await admin.api("GET", "/api/events");
      expect(read.status, how).toBe(503);
      expect(read.body.error.code).toBe("storage_unavailable");
      expect((await admin.send("/health", {})).status).toBe(503);

      await server.recover();
      expect((await ingest(admin, source, callEvent())).status, how).toBe(202);
      acknowledged += 1;
      expect((await admin.send("/health", {})).body).toEqual({ status: "ok", database: "ok" });
    }
    expect((await admin.api("GET", "/api/events?limit=100")).body.data).toHaveLength(acknowledged);
    expect((await admin.send("/metrics", {})).body).toMatch(new RegExp(`^gateway_storage_unavailable_total ${FAILURES.length * 2}$`, "m"));
    expect(gateway.child.exitCode).toBeNull();
  });
});

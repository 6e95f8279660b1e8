import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { Hono } from "hono";
import { parseOutboundAllow } from "../src/delivery/address-policy.js";
import { DEFAULT_DISPATCHER_LIMITS } from "../src/delivery/dispatcher.js";
import { ID_PREFIX, newId } from "../src/domain/ids.js";
import { openDatabase } from "../src/runtime/node-database.js";
import { createNodeTransport } from "../src/runtime/node-transport.js";
import { rowWriter, updateStatement } from "../src/store/driver-sql.js";
import { groupCommit } from "../src/store/group-commit.js";

// The floor that durability sets: the bare forwarder, plus each event committed before it is answered and
// its outcome recorded after it is forwarded, through the gateway's own database thread, group commit and
// prebuilt statements, in a libSQL file synced as the gateway syncs it. No verification, matching,
// rendering or signing. The gateway's distance from this is what its own work costs.

const forwarded = sqliteTable("forwarded", {
  id: text("id").primaryKey(),
  body: text("body").notNull(),
  received_at: integer("received_at").notNull(),
  status: integer("status"),
});
const CREATE = "CREATE TABLE IF NOT EXISTS forwarded (id TEXT PRIMARY KEY, body TEXT NOT NULL, received_at INTEGER NOT NULL, status INTEGER)";

const target = process.env.TARGET_URL!;
const transport = createNodeTransport(parseOutboundAllow("127.0.0.0/8,::1").allow, DEFAULT_DISPATCHER_LIMITS.concurrency);
const { driver, client } = await openDatabase(`file:${process.env.DATABASE_FILE}`);
await client.execute(CREATE);
const commit = groupCommit(driver, setImmediate);
const rows = rowWriter(forwarded);

const app = new Hono();

app.post("/ingest/:sourceId", async (c) => {
  const body = await c.req.text();
  const id = newId(ID_PREFIX.event, Date.now());
  await commit({ inserts: [{ into: rows, rows: [{ id, body, received_at: Date.now() }] }] });
  transport
    .fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body })
    .then(async (reply) => {
      await reply.excerpt();
      await commit({ inserts: [], statements: [updateStatement(forwarded, forwarded.id, id, { status: reply.status })] });
    })
    .catch((error) => console.error("forward failed", String(error)));
  return c.json({ event_id: id }, 202);
});

// Exit (rather than die) on SIGTERM, so that a CPU profile (`BENCH_CPU_PROFILE`) is written.
process.once("SIGTERM", () => process.exit(0));

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 0) }, () => {
  console.log(`Durable forwarder listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

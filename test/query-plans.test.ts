import { join } from "node:path";
import { createClient, type Client } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Database } from "../src/store/database.js";
import { dueQueries, failedQuery, listQuery as deliveryList } from "../src/store/deliveries.js";
import { listQuery as eventList } from "../src/store/events.js";
import { startGateway, type TestGateway } from "./support/gateway.js";

// Queries that run on the database's only thread while a table holds hundreds of thousands of rows must walk
// an index to what they want and stop at their limit, not read or sort the rest. The sweep looks for due
// deliveries every second while a CRM that is down piles them up; a recovery pages through a rule's failed ones
// among its delivered ones.

let gw: TestGateway;
let client: Client;

beforeEach(async () => {
  gw = await startGateway();
  client = createClient({ url: `file:${join(gw.dir, "gateway.db")}` });
});
afterEach(async () => {
  client.close();
  await gw.stop();
});

/** A delivery row as the outbox holds it, with only what the sweep looks at set. */
async function addDelivery(id: string, webhookId: string, status: string, due: number, leaseUntil: number | null) {
  await gw.sql(
    `INSERT INTO deliveries (id, event_id, webhook_id, status, request, max_attempts, attempt_count, next_attempt_at, lease_until, created_at, updated_at)
     VALUES (?, 'ev_1', ?, ?, NULL, 4, 0, ?, ?, 't', 't')`,
    [id, webhookId, status, due, leaseUntil],
  );
}

it("walks an index for each kind of due delivery, with or without rules to skip, and sorts nothing", async () => {
  const db = drizzle(client) as unknown as Database;
  for (const skip of [[], ["wh_busy"]]) {
    for (const query of dueQueries(db, gw.clock.now(), 200, skip)) {
      const plan = await planOf(query);
      expect(plan).toHaveLength(1);
      expect(plan[0]).toMatch(/^SEARCH deliveries USING (COVERING )?INDEX deliveries_(due|lease) /);
    }
  }
});

/** The query plan's lines, as SQLite explains them. */
async function planOf(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string[]> {
  const { sql, params } = query.toSQL();
  return (await gw.sql(`EXPLAIN QUERY PLAN ${sql}`, params as Array<string | number>)).map((row) => String(row.detail));
}

it("pages through a rule's failed deliveries by the index of failed ones, passing over no delivered one", async () => {
  const db = drizzle(client) as unknown as Database;
  for (const window of [{ sinceMs: 0 }, { sinceMs: 0, untilMs: gw.clock.now(), after: "dlv_0" }]) {
    expect(await planOf(failedQuery(db, "wh_1", window, 201))).toEqual([expect.stringMatching(/^SEARCH deliveries USING INDEX deliveries_status \(status=\? AND id>\?\)/)]);
  }
});

it("lists events by type or source, and deliveries by rule or status, newest first, walking an index and sorting nothing", async () => {
  const db = drizzle(client) as unknown as Database;
  const page = { limit: 50 };
  const next = { limit: 50, cursor: "zzz" };
  for (const [filter, index] of [[{ type: "call.end" }, "events_type"], [{ source_id: "src_1" }, "events_source"]] as const) {
    for (const at of [page, next]) expect(await planOf(eventList(db, filter, at)), index).toEqual([expect.stringMatching(new RegExp(`^SEARCH events USING INDEX ${index} `))]);
  }
  for (const [filter, index] of [[{ webhook_id: "wh_1" }, "deliveries_webhook"], [{ status: "delivered" }, "deliveries_status"]] as const) {
    for (const at of [page, next]) expect(await planOf(deliveryList(db, filter, at)), index).toEqual([expect.stringMatching(new RegExp(`^SEARCH deliveries USING INDEX ${index} `))]);
  }
});

it("takes the oldest due first, pending and lapsed leases together, passing over the rules it skips", async () => {
  const now = gw.clock.now();
  await addDelivery("dl_a", "wh_1", "pending", now - 5_000, null);
  await addDelivery("dl_b", "wh_1", "delivering", now - 4_000, now - 1);
  await addDelivery("dl_c", "wh_busy", "pending", now - 9_000, null);
  await addDelivery("dl_d", "wh_2", "pending", now - 3_000, null);
  await addDelivery("dl_e", "wh_2", "delivering", now - 8_000, now - 1);
  await addDelivery("dl_f", "wh_2", "pending", now + 1_000, null);
  await addDelivery("dl_g", "wh_2", "delivering", now - 10_000, now + 1_000);
  expect(await gw.store.deliveries.dueIds(now, 10)).toEqual(["dl_c", "dl_e", "dl_a", "dl_b", "dl_d"]);
  expect(await gw.store.deliveries.dueIds(now, 3, ["wh_busy"])).toEqual(["dl_e", "dl_a", "dl_b"]);
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../src/runtime/node-database.js";
import { MAX_BOUND_PARAMETERS } from "../src/store/database.js";
import { rowWriter, updateStatement } from "../src/store/driver-sql.js";
import { calls, webhooks, type CallRow, type WebhookRow } from "../src/store/schema.js";

// The store's prebuilt writes must put in what drizzle would: read back through drizzle, the rows are the rows
// written, JSON and flags decoded, column defaults applied, statements cut to D1's parameter limit.

const LIMIT = MAX_BOUND_PARAMETERS;

let dir: string;
let opened: Awaited<ReturnType<typeof openDatabase>>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "driver-sql-"));
  opened = await openDatabase(`file:${join(dir, "gateway.db")}`);
});

afterEach(() => {
  opened.client.close();
  rmSync(dir, { recursive: true, force: true });
});

function webhookRow(id: string): WebhookRow {
  return {
    id,
    name: `rule ${id}`,
    enabled: true,
    events: ["call.end"],
    call_types: ["inbound"],
    source_ids: [],
    filter: null,
    preset: null,
    preset_config: { nested: { a: [1, "two", null] } },
    method: "POST_JSON",
    url: "http://127.0.0.1/crm",
    headers: { "X-Tenant": "ünïcode" },
    params: { phone: "src" },
    body_template: null,
    content_type: "application/json",
    retries: 3,
    delay_seconds: 0,
    timeout_ms: 5000,
    hangup_causes: {},
    signing: "standard",
    secret: "sealed",
    transport: "http",
    sqs: null,
    disabled: null,
    created_at: "2026-11-22T00:00:00.000Z",
    updated_at: "2026-11-22T00:00:00.000Z",
  };
}

describe("prebuilt writes", () => {
  it("insert rows that drizzle reads back unchanged, in statements binding at most 100 values", async () => {
    const rows = Array.from({ length: 9 }, (_, i) => ({ ...webhookRow(`w${i}`), enabled: i % 2 === 0 }));
    const statements = rowWriter(webhooks).statements(rows, MAX_BOUND_PARAMETERS);
    expect(statements.length).toBeGreaterThan(1);
    for (const statement of statements) expect(statement.args.length).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
    await opened.driver.batch(statements);
    expect(await opened.db.select().from(webhooks).orderBy(asc(webhooks.id))).toEqual(rows);
  });

  it("insert as many rows per statement as the driver binds values", async () => {
    const rows = Array.from({ length: 9 }, (_, i) => webhookRow(`w${i}`));
    const statements = rowWriter(webhooks).statements(rows, opened.driver.maxBoundParameters);
    expect(statements).toHaveLength(1);
    await opened.driver.batch(statements);
    expect(await opened.db.select().from(webhooks).orderBy(asc(webhooks.id))).toEqual(rows);
  });

  it("give an absent column its default, as drizzle does", async () => {
    const { transport: _absent, ...row } = webhookRow("w1");
    await opened.driver.batch(rowWriter(webhooks).statements([row], LIMIT));
    const [stored] = await opened.db.select().from(webhooks);
    expect(stored.transport).toBe("http");
  });

  it("upsert: a row meeting an existing key replaces the set columns only, the last row of a statement winning", async () => {
    const writer = rowWriter(calls, { target: [calls.source_id, calls.uniqueid], set: [calls.state, calls.updated_at] });
    const call = (state: CallRow["state"], at: string): CallRow => ({ source_id: "s1", uniqueid: "u1", state, updated_at: at });
    await opened.driver.batch(writer.statements([call({ start_at: "a" }, "t1")], LIMIT));
    await opened.driver.batch(writer.statements([call({ start_at: "a", answer_at: "b" }, "t2"), call({ start_at: "c" }, "t3")], LIMIT));
    expect(await opened.db.select().from(calls)).toEqual([call({ start_at: "c" }, "t3")]);
  });

  it("update sets the fields given, skips undefined ones, and touches only the keyed row", async () => {
    await opened.driver.batch(rowWriter(webhooks).statements([webhookRow("w1"), webhookRow("w2")], LIMIT));
    await opened.driver.batch([updateStatement(webhooks, webhooks.id, "w1", { enabled: false, headers: { A: "1" }, filter: undefined, params: null })]);
    const [w1] = await opened.db.select().from(webhooks).where(eq(webhooks.id, "w1"));
    const [w2] = await opened.db.select().from(webhooks).where(eq(webhooks.id, "w2"));
    expect(w1).toEqual({ ...webhookRow("w1"), enabled: false, headers: { A: "1" }, params: null });
    expect(w2).toEqual(webhookRow("w2"));
  });

  it("a failing statement rolls back the whole batch", async () => {
    const writer = rowWriter(webhooks);
    await expect(opened.driver.batch([...writer.statements([webhookRow("w1")], LIMIT), ...writer.statements([webhookRow("w1")], LIMIT)])).rejects.toThrow(/UNIQUE/);
    expect(await opened.db.select().from(webhooks)).toEqual([]);
  });
});

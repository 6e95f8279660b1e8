import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../src/runtime/node-database.js";
import type { Driver, DriverStatement } from "../src/store/driver-sql.js";
import { rowWriter, updateStatement } from "../src/store/driver-sql.js";
import { groupCommit } from "../src/store/group-commit.js";
import { calls } from "../src/store/schema.js";

// Group commit over the real database thread and libSQL file. The driver is wrapped only to watch what is
// sent and, where a test needs it, to hold a transaction back as a slow disk would.

let dir: string;
let opened: Awaited<ReturnType<typeof openDatabase>>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "group-commit-"));
  opened = await openDatabase(`file:${join(dir, "gateway.db")}`);
});

afterEach(() => {
  opened.client.close();
  rmSync(dir, { recursive: true, force: true });
});

const callRows = rowWriter(calls);
const callRow = (uniqueid: string) => ({ source_id: "src_1", uniqueid, state: { answered: true }, updated_at: "2026-11-22T00:00:00.000Z" });
const writes = (...ids: string[]) => ({ inserts: [{ into: callRows, rows: ids.map(callRow) }] });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function storedIds(): Promise<string[]> {
  const result = await opened.client.execute("select uniqueid from calls order by uniqueid");
  return result.rows.map((row) => String(row.uniqueid));
}

/** The real driver, with each transaction held until the test lets it go. */
function heldDriver(real: Driver) {
  const held: Array<() => void> = [];
  const sent: DriverStatement[][] = [];
  const driver: Driver = {
    maxBoundParameters: real.maxBoundParameters,
    batch: (statements) => {
      sent.push(statements);
      return new Promise<void>((resolve) => held.push(resolve)).then(() => real.batch(statements));
    },
  };
  return { driver, sent, release: () => held.shift()!() };
}

describe("group commit", () => {
  it("commits writers that arrive together in one transaction, each resolved once its rows are stored", async () => {
    let batches = 0;
    const commit = groupCommit({ ...opened.driver, batch: (statements) => ((batches += 1), opened.driver.batch(statements)) }, setImmediate);
    const ids = Array.from({ length: 40 }, (_, i) => `call-${String(i).padStart(2, "0")}`);
    await Promise.all(ids.map((id) => commit(writes(id))));
    expect(batches).toBe(1);
    expect(await storedIds()).toEqual(ids);
  });

  it("sends the next transaction while one commits, and no third until one is done", async () => {
    const { driver, sent, release } = heldDriver(opened.driver);
    const commit = groupCommit(driver, setImmediate);

    const first = commit(writes("a"));
    await nextTurn();
    expect(sent).toHaveLength(1);

    // The first is still committing: those arriving now go in together, at once.
    const second = [commit(writes("b")), commit(writes("c"))];
    await nextTurn();
    expect(sent).toHaveLength(2);

    const third = commit(writes("d"));
    await nextTurn();
    expect(sent).toHaveLength(2);

    release();
    await first;
    await nextTurn();
    expect(sent).toHaveLength(3);
    expect(sent[2][0].args).toContain("d");

    release();
    release();
    await Promise.all([...second, third]);
    expect(await storedIds()).toEqual(["a", "b", "c", "d"]);
  });

  it("fails only the writer whose rows the database refuses; the others of its transaction are committed", async () => {
    const commit = groupCommit(opened.driver, setImmediate);
    await commit(writes("taken"));
    const outcomes = await Promise.allSettled([commit(writes("x")), commit(writes("taken")), commit(writes("y"))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed/);
    expect(await storedIds()).toEqual(["taken", "x", "y"]);
  });

  it("tells each writer how many rows each of its own statements changed, in a shared transaction or alone", async () => {
    let batches = 0;
    const commit = groupCommit({ ...opened.driver, batch: (statements) => ((batches += 1), opened.driver.batch(statements)) }, setImmediate);
    await commit(writes("a", "b"));
    const touch = (uniqueid: string, guard?: { sql: string; args: string[] }) =>
      updateStatement(calls, calls.uniqueid, uniqueid, { updated_at: "2026-11-23T00:00:00.000Z" }, guard);
    const stale = { sql: '"updated_at" < ?', args: ["2026-01-01"] };

    batches = 0;
    const together = await Promise.all([
      commit({ inserts: [], statements: [touch("a")] }),
      commit({ inserts: [], statements: [touch("missing")] }),
      commit({ ...writes("c"), statements: [touch("b"), touch("a", stale), touch("c")] }),
    ]);
    expect(batches).toBe(1);
    expect(together).toEqual([[1], [0], [1, 0, 1]]);

    // A refused writer sends the others' writes alone: each still hears its own counts.
    const alone = await Promise.allSettled([commit({ ...writes("d"), statements: [touch("d")] }), commit(writes("a")), commit({ inserts: [], statements: [touch("nothing")] })]);
    expect(alone.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : "refused"))).toEqual([[1], "refused", [0]]);
  });
});

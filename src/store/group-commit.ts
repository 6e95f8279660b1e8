import type { Driver, DriverStatement, RowWriter } from "./driver-sql.js";

/** Rows for one table. */
interface Insert {
  into: RowWriter;
  rows: readonly object[];
}

/** One writer's part of a transaction: rows to insert, then other statements. */
interface Writes {
  inserts: Insert[];
  statements?: DriverStatement[];
}

/** How many rows each of a writer's `statements` changed (its inserts are merged with others': not told). */
export type Changes = number[];

/** Runs `fn` after the I/O that is ready now has been handled (setImmediate on Node; a timer elsewhere). */
export type Defer = (fn: () => void) => void;

interface Pending {
  writes: Writes;
  resolve: (changes: Changes) => void;
  reject: (error: unknown) => void;
}

/** Writers whose statements share one transaction at most. */
const MAX_GROUP = 64;

/**
 * Transactions sent to the driver and not yet answered. Two: while the database commits one, the next waits
 * at its door, so it goes on at once instead of idling until the caller has heard back and sent more. More
 * would only split the waiting writers into smaller transactions, each with its own sync.
 */
const MAX_IN_FLIGHT = 2;

/** The writers' rows merged into multi-row inserts, one table after another, then their other statements. */
function statementsOf(group: Writes[], maxBoundParameters: number): DriverStatement[] {
  const rowsByWriter = new Map<RowWriter, object[]>();
  for (const { into, rows } of group.flatMap((writes) => writes.inserts)) {
    if (!rows.length) continue;
    const merged = rowsByWriter.get(into) ?? [];
    merged.push(...rows);
    rowsByWriter.set(into, merged);
  }
  const inserts = [...rowsByWriter].flatMap(([writer, rows]) => writer.statements(rows, maxBoundParameters));
  return [...inserts, ...group.flatMap((writes) => writes.statements ?? [])];
}

/** Commits the group's writes in one transaction; each writer's changes, from the driver's count for every statement. */
async function commitGroup(driver: Driver, group: Writes[]): Promise<Changes[]> {
  const statements = statementsOf(group, driver.maxBoundParameters);
  const changed = statements.length ? await driver.batch(statements) : [];
  // The writers' own statements come last, in order.
  let at = statements.length - group.reduce((total, writes) => total + (writes.statements?.length ?? 0), 0);
  return group.map((writes) => changed.slice(at, (at += writes.statements?.length ?? 0)));
}

/**
 * Group commit: each caller's writes are atomic and its promise resolves only once they are committed (with
 * how many rows each of its statements changed), but the callers that arrive together share one transaction,
 * so one disk sync acknowledges them all, and their rows for the same table go in together, in as few
 * statements as the database allows.
 * If the shared transaction fails, each caller's writes run alone, so that an error (a duplicate event,
 * say) reaches only the caller that caused it. Nothing orders the commits of the transactions in flight at
 * once: a caller sends writes that depend on earlier ones only after those resolved (as ingest and delivery
 * outcomes do).
 */
export function groupCommit(driver: Driver, defer: Defer) {
  let queue: Pending[] = [];
  let scheduled = false;
  let inFlight = 0;

  async function flush(): Promise<void> {
    scheduled = false;
    const group = queue.slice(0, MAX_GROUP);
    queue = queue.slice(group.length);
    inFlight += 1;
    schedule();
    try {
      const changes = await commitGroup(driver, group.map((pending) => pending.writes));
      group.forEach((pending, i) => pending.resolve(changes[i]));
    } catch (error) {
      if (group.length === 1) group[0].reject(error);
      else for (const pending of group) await commitGroup(driver, [pending.writes]).then(([changes]) => pending.resolve(changes), pending.reject);
    }
    inFlight -= 1;
    schedule();
  }

  function schedule(): void {
    if (scheduled || queue.length === 0 || inFlight >= MAX_IN_FLIGHT) return;
    scheduled = true;
    defer(() => void flush());
  }

  return (writes: Writes): Promise<Changes> =>
    new Promise<Changes>((resolve, reject) => {
      queue.push({ writes, resolve, reject });
      schedule();
    });
}

export type GroupCommit = ReturnType<typeof groupCommit>;

/**
 * Each caller's writes in a transaction of their own, for a runtime whose requests cannot share I/O: on
 * Workers, a commit started for one request cannot answer another (workerd cancels the waiting one as hung).
 */
export function commitAlone(driver: Driver): GroupCommit {
  return async (writes: Writes) => (await commitGroup(driver, [writes]))[0];
}

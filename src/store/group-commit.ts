import type { Driver, DriverStatement, RowWriter } from "./driver-sql.js";

/** Rows for one table. */
export interface Insert {
  into: RowWriter;
  rows: readonly object[];
}

/** One writer's part of a transaction: rows to insert, then other statements. */
export interface Writes {
  inserts: Insert[];
  statements?: DriverStatement[];
}

/** Runs `fn` after the I/O that is ready now has been handled (setImmediate on Node; a timer elsewhere). */
export type Defer = (fn: () => void) => void;

interface Pending {
  writes: Writes;
  resolve: () => void;
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

/**
 * Group commit: each caller's writes are atomic and its promise resolves only once they are committed,
 * but the callers that arrive together share one transaction, so one disk sync acknowledges them all, and
 * their rows for the same table go in together, in as few statements as the database allows.
 * If the shared transaction fails, each caller's writes run alone, so that an error (a duplicate event,
 * say) reaches only the caller that caused it. Nothing orders the commits of the transactions in flight at
 * once: a caller sends writes that depend on earlier ones only after those resolved (as ingest and delivery
 * outcomes do).
 */
export function groupCommit(driver: Driver, defer: Defer) {
  let queue: Pending[] = [];
  let scheduled = false;
  let inFlight = 0;

  const run = async (group: Writes[]) => {
    const statements = statementsOf(group, driver.maxBoundParameters);
    if (statements.length) await driver.batch(statements);
  };

  async function flush(): Promise<void> {
    scheduled = false;
    const group = queue.slice(0, MAX_GROUP);
    queue = queue.slice(group.length);
    inFlight += 1;
    schedule();
    try {
      await run(group.map((pending) => pending.writes));
      for (const pending of group) pending.resolve();
    } catch (error) {
      if (group.length === 1) group[0].reject(error);
      else for (const pending of group) await run([pending.writes]).then(pending.resolve, pending.reject);
    }
    inFlight -= 1;
    schedule();
  }

  function schedule(): void {
    if (scheduled || queue.length === 0 || inFlight >= MAX_IN_FLIGHT) return;
    scheduled = true;
    defer(() => void flush());
  }

  return (writes: Writes): Promise<void> =>
    new Promise<void>((resolve, reject) => {
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
  return async (writes: Writes) => {
    const statements = statementsOf([writes], driver.maxBoundParameters);
    if (statements.length) await driver.batch(statements);
  };
}

// Sources and rules are read on every ingest and every delivery, and written rarely, by an admin. A process
// that is its database's only writer (the Node gateway) keeps each of these small tables in memory: read
// once, dropped after every write made through the store. Workers isolates share D1 with each other, so they
// read through.

type Queries = Record<string, (...args: never[]) => Promise<unknown>>;

/** Rows are shared by every reader: frozen, so that no caller can change what the next one sees. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** The whole table, loaded on first use and forgotten by `forget()`. */
function snapshotOf<T>(loadAll: () => Promise<T[]>) {
  let rows: Promise<T[]> | null = null;
  return {
    rows(): Promise<T[]> {
      // A failed load is not kept: the next read tries again.
      rows ??= loadAll()
        .then(deepFreeze)
        .catch((error) => {
          rows = null;
          throw error;
        });
      return rows;
    },
    forget(): void {
      rows = null;
    },
  };
}

/**
 * `queries` with its reads answered from a snapshot of the table (`reads` builds them from the rows) and
 * every other method, a write, forgetting the snapshot once it has run, so the next read sees the write.
 */
export function withSnapshot<Q extends Queries, T>(
  queries: Q,
  loadAll: () => Promise<T[]>,
  reads: (rows: () => Promise<T[]>) => Partial<Q>,
): Q {
  const snapshot = snapshotOf(loadAll);
  const cachedReads = reads(() => snapshot.rows());
  const wrapped = Object.fromEntries(
    Object.entries(queries).map(([name, query]) => {
      if (name in cachedReads) return [name, cachedReads[name]];
      const write = (...args: never[]) => query(...args).finally(() => snapshot.forget());
      return [name, write];
    }),
  );
  return wrapped as Q;
}

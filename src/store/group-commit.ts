import type { Database } from "./database.js";

type Statement = Parameters<Database["batch"]>[0][number];

/** Runs `fn` after the I/O that is ready now has been handled (setImmediate on Node; a timer elsewhere). */
export type Defer = (fn: () => void) => void;

interface Pending {
  statements: Statement[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Writers whose statements share one transaction at most. */
const MAX_GROUP = 64;

/**
 * Group commit: each caller's statements are atomic and its promise resolves only once they are committed,
 * but the callers that arrive together share one transaction, so one disk sync acknowledges them all.
 * If the shared transaction fails, each caller's statements run alone, so that an error (a duplicate event,
 * say) reaches only the caller that caused it.
 */
export function groupCommit(db: Database, defer: Defer) {
  let queue: Pending[] = [];
  let scheduled = false;

  const run = (statements: Statement[]) => db.batch(statements as [Statement, ...Statement[]]).then(() => undefined);

  async function flush(): Promise<void> {
    const group = queue.slice(0, MAX_GROUP);
    queue = queue.slice(group.length);
    try {
      await run(group.flatMap((pending) => pending.statements));
      for (const pending of group) pending.resolve();
    } catch (error) {
      if (group.length === 1) group[0].reject(error);
      else for (const pending of group) await run(pending.statements).then(pending.resolve, pending.reject);
    }
    scheduled = false;
    schedule();
  }

  function schedule(): void {
    if (scheduled || queue.length === 0) return;
    scheduled = true;
    defer(() => void flush());
  }

  return (statements: Statement[]): Promise<void> => {
    if (statements.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      queue.push({ statements, resolve, reject });
      schedule();
    });
  };
}

export type GroupCommit = ReturnType<typeof groupCommit>;

/** Outside Node: a zero-delay timer lets the requests that are already in join the next transaction. */
export const deferToTimer: Defer = (fn) => void setTimeout(fn, 0);

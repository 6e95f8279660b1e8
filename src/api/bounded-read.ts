import { systemClock } from "../clock.js";
import { errorText } from "../domain/errors.js";
import type { AppDeps } from "./deps.js";

/** How long `/metrics` and `/health` wait for the database before answering without it. */
export const DATABASE_WAIT_MS = 1_000;

/** A read's value, or why there is none: its error, or that it took longer than the wait. */
type Reading<T> = { ok: true; value: T } | { ok: false; error: string };

const LATE = { ok: false, error: `the database did not answer within ${DATABASE_WAIT_MS} ms` } as const;

/**
 * `read` for a request that must answer promptly whatever the database does (a scrape, a health probe): each
 * call waits for it at most DATABASE_WAIT_MS. Where the runtime shares reads (Node), a call while one is in
 * flight waits for that one instead of sending another, so that probes behind a stuck write do not pile up.
 */
export function boundedRead<T>(
  deps: Pick<AppDeps, "databaseWaitClock" | "shareDatabaseReads">,
  read: () => Promise<T>,
): () => Promise<Reading<T>> {
  const clock = deps.databaseWaitClock ?? systemClock;
  const settled = () => read().then((value): Reading<T> => ({ ok: true, value }), (error: unknown): Reading<T> => ({ ok: false, error: errorText(error) }));
  let inFlight: Promise<Reading<T>> | null = null;
  const current = () => (deps.shareDatabaseReads ? (inFlight ??= settled().finally(() => (inFlight = null))) : settled());

  return async () => {
    const waiting = new AbortController();
    const late = clock.sleep(DATABASE_WAIT_MS, waiting.signal).then(() => LATE);
    try {
      return await Promise.race([current(), late]);
    } finally {
      waiting.abort();
    }
  };
}

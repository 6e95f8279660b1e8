import { describe, expect, it } from "vitest";
import { boundedRead } from "../src/api/bounded-read.js";
import { PausingClock } from "./support/clock.js";

// The wait behind `/metrics` and `/health` (see database-stall.test.ts for them on a stuck database): each
// caller waits at most its bound, and on Node a read that answers late is not sent again meanwhile.

/** A read the test answers by hand, counting how often it was sent. */
function handRead() {
  const answers: Array<{ resolve: (value: number) => void; reject: (error: Error) => void }> = [];
  const read = () => new Promise<number>((resolve, reject) => answers.push({ resolve, reject }));
  return { read, answers };
}

describe("boundedRead", () => {
  it("shares the read in flight when the runtime says so: callers whose wait is up do not send more", async () => {
    const waits = new PausingClock();
    const { read, answers } = handRead();
    const depth = boundedRead({ databaseWaitClock: waits, shareDatabaseReads: true }, read);

    const first = depth();
    const second = depth();
    await waits.asleep();
    waits.wake();
    const late = { ok: false, error: "the database did not answer within 1000 ms" };
    expect(await first).toEqual(late);
    expect(await second).toEqual(late);
    expect(await Promise.all([depth(), depth(), waits.asleep().then(() => waits.wake())])).toEqual([late, late, undefined]);
    expect(answers).toHaveLength(1);

    // One that comes while it is still in flight has its answer; the next sends a fresh read.
    const third = depth();
    answers[0].resolve(7);
    expect(await third).toEqual({ ok: true, value: 7 });
    const fourth = depth();
    expect(answers).toHaveLength(2);
    answers[1].reject(new Error("SQLITE_IOERR: disk I/O error"));
    expect(await fourth).toEqual({ ok: false, error: "Error: SQLITE_IOERR: disk I/O error" });
  });

  it("sends a read for each caller where reads are not shared (Workers)", async () => {
    const waits = new PausingClock();
    const { read, answers } = handRead();
    const depth = boundedRead({ databaseWaitClock: waits }, read);
    const first = depth();
    const second = depth();
    expect(answers).toHaveLength(2);
    answers[1].resolve(2);
    answers[0].resolve(1);
    expect(await Promise.all([first, second])).toEqual([
      { ok: true, value: 1 },
      { ok: true, value: 2 },
    ]);
  });
});

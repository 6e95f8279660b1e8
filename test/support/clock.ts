import type { Clock } from "../../src/clock.js";

/** A clock the test moves: `sleep` advances it at once, so backoffs take no real time and are recorded exactly. */
export class ManualClock implements Clock {
  constructor(private current = Date.parse("2026-11-20T12:00:00Z")) {}
  now(): number {
    return this.current;
  }
  async sleep(ms: number): Promise<void> {
    this.current += ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * A manual clock whose `sleep` waits until the test calls `wake()` (the time then moves on by the wait) or
 * the sleeper's signal aborts: for what happens while the dispatcher waits in memory for a retry.
 */
export class PausingClock extends ManualClock {
  private sleepers: Array<{ ms: number; resolve: () => void }> = [];
  private watchers: Array<() => void> = [];

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper = { ms, resolve };
      this.sleepers.push(sleeper);
      // An aborted sleep is over: no longer asleep, and not one that wake() moves the time on for.
      const abort = () => {
        this.sleepers = this.sleepers.filter((other) => other !== sleeper);
        resolve();
      };
      signal?.addEventListener("abort", abort, { once: true });
      for (const watch of this.watchers.splice(0)) watch();
    });
  }

  /** Resolves once something is asleep. */
  asleep(): Promise<void> {
    return this.sleepers.length ? Promise.resolve() : new Promise((resolve) => this.watchers.push(resolve));
  }

  /** Ends every sleep, moving the time on by the longest. */
  wake(): void {
    const sleepers = this.sleepers.splice(0);
    this.advance(Math.max(0, ...sleepers.map((s) => s.ms)));
    for (const { resolve } of sleepers) resolve();
  }
}

/**
 * A manual clock that also moves on by `step` ms each time it is read (not while `step` is 0): work bounded
 * by a time budget (a retention pass) then sees its budget run out after a known number of readings.
 */
export class SteppingClock extends ManualClock {
  step = 0;
  override now(): number {
    const now = super.now();
    this.advance(this.step);
    return now;
  }
}

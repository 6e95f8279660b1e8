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

import { readFileSync } from "node:fs";

// The tests' canonical fixture (test/support/events.ts reads it through Vite, which the bench runs without).
const CALL_END = JSON.parse(readFileSync(new URL("../test/fixtures/canonical/call-end-inbound.json", import.meta.url), "utf8"));

let counter = 0;
/** `n` distinct calls (each its own uniqueid), as a PBX posts them. */
export function callEvents(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, () => ({ ...CALL_END, uniqueid: `bench-${process.pid}-${(counter += 1)}` }));
}

import { readFileSync } from "node:fs";

/** The canonical fixture (copied from shared/fixtures): an answered inbound call that ended. */
export const CALL_END: Record<string, any> = JSON.parse(
  readFileSync(new URL("../fixtures/canonical/call-end-inbound.json", import.meta.url), "utf8"),
);

let counter = 0;
/** The fixture as a new call (its own uniqueid), with overrides. */
export function callEvent(overrides: Record<string, unknown> = {}): Record<string, any> {
  counter += 1;
  return { ...CALL_END, uniqueid: `2000${counter}.${counter}`, ...overrides };
}

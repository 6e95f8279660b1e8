import { projectJson } from "./files.js";

/** The canonical fixture (copied from shared/fixtures): an answered inbound call that ended. */
export const CALL_END: Record<string, any> = projectJson("test/fixtures/canonical/call-end-inbound.json");

let counter = 0;
/** The fixture as a new call (its own uniqueid), with overrides. */
export function callEvent(overrides: Record<string, unknown> = {}): Record<string, any> {
  counter += 1;
  return { ...CALL_END, uniqueid: `2000${counter}.${counter}`, ...overrides };
}

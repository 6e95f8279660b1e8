import type { CanonicalEvent } from "./event.js";
import type { Webhook } from "./webhook.js";

/** Everything about a rule but its JSONata filter: enabled, event type, call type and source. */
export function ruleApplies(webhook: Webhook, event: CanonicalEvent): boolean {
  if (!webhook.enabled || event.type === "unmapped") return false;
  if (!(webhook.events as string[]).includes(event.type)) return false;
  if (webhook.call_types.length && !(event.direction && webhook.call_types.includes(event.direction))) return false;
  return !webhook.source_ids.length || webhook.source_ids.includes(event.source_id);
}

/** JSONata's `$boolean`: what counts as true when a filter returns something other than a boolean. */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value.length > 0;
  if (typeof value === "function") return false;
  if (Array.isArray(value)) return value.some(isTruthy);
  return Object.keys(value).length > 0;
}

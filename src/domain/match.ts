import type { CanonicalEvent } from "./event.js";
import type { Webhook } from "./webhook.js";

/** A rule's fields that can leave an event out, in the order they are checked. */
export const MATCH_FIELDS = ["events", "call_types", "source_ids", "filter"] as const;
export type MatchField = (typeof MATCH_FIELDS)[number];

/** Why a saved rule does not take an event: one of its match fields, or only its being disabled. */
export const LEFT_OUT_BY = [...MATCH_FIELDS, "disabled"] as const;
export type LeftOutBy = (typeof LEFT_OUT_BY)[number];

/** The first of the rule's event type, call type and source that leaves the event out; null when none does. */
export function unmatchedBy(webhook: Webhook, event: CanonicalEvent): Exclude<MatchField, "filter"> | null {
  if (event.type === "unmapped" || !(webhook.events as string[]).includes(event.type)) return "events";
  if (webhook.call_types.length && !(event.direction && webhook.call_types.includes(event.direction))) return "call_types";
  if (webhook.source_ids.length && !webhook.source_ids.includes(event.source_id)) return "source_ids";
  return null;
}

/** Everything about a rule but its JSONata filter: enabled, event type, call type and source. */
export function ruleApplies(webhook: Webhook, event: CanonicalEvent): boolean {
  return webhook.enabled && unmatchedBy(webhook, event) === null;
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

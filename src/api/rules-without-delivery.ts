import type { CanonicalEvent } from "../domain/event.js";
import type { LeftOutBy } from "../domain/match.js";
import type { Webhook } from "../domain/webhook.js";
import { unmatchedField } from "../delivery/plan.js";
import { ExpressionError } from "../render/jsonata.js";
import type { DeliveryRow } from "../store/schema.js";
import { RULES_SHOWN, type RulesWithoutDelivery } from "./view-schemas.js";

// Why an event has no delivery of a rule, as its detail says: worked out when the detail is read (never at
// ingest), against the rules as they are then.

/** Nearest first: a rule that takes the event now (made or changed since), then one only its being disabled leaves out, and so on back. */
const NEAREST_FIRST: Array<LeftOutBy | null> = [null, "disabled", "filter", "source_ids", "call_types", "events"];

/** What leaves the event out of the rule now: a field (a filter that fails on it, too), or only its being disabled; null when nothing does. */
async function leftOutBy(webhook: Webhook, event: CanonicalEvent): Promise<LeftOutBy | null> {
  try {
    return (await unmatchedField(webhook, event)) ?? (webhook.enabled ? null : "disabled");
  } catch (error) {
    if (error instanceof ExpressionError) return "filter";
    throw error;
  }
}

/** The rules that made no delivery of the event, each with what leaves the event out of it now, nearest first; at most RULES_SHOWN. */
export async function rulesWithoutDelivery(event: CanonicalEvent, rules: Webhook[], deliveries: DeliveryRow[]): Promise<RulesWithoutDelivery> {
  const delivering = new Set(deliveries.map((delivery) => delivery.webhook_id));
  const others = rules.filter((rule) => !delivering.has(rule.id));
  const judged = await Promise.all(others.map(async (rule) => ({ id: rule.id, name: rule.name, unmatched: await leftOutBy(rule, event) })));
  judged.sort((a, b) => NEAREST_FIRST.indexOf(a.unmatched) - NEAREST_FIRST.indexOf(b.unmatched));
  return { rules: judged.slice(0, RULES_SHOWN), more: Math.max(0, judged.length - RULES_SHOWN) };
}

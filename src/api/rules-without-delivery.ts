import type { CanonicalEvent } from "../domain/event.js";
import type { LeftOutBy } from "../domain/match.js";
import type { Webhook } from "../domain/webhook.js";
import { unmatchedField } from "../delivery/plan.js";
import { ExpressionError } from "../render/jsonata.js";
import type { DeliveryRow } from "../store/schema.js";
import { RULES_SHOWN, type RulesWithoutDelivery } from "./view-schemas.js";

// Why an event has no delivery of a rule, as its detail says: worked out when the detail is read (never at
// ingest), against the rules as they are then. A rule unchanged since the event came in answers as it did at
// ingest; one made or saved since is marked, as its answer now may not be why it made no delivery then.

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

/** Whether the rule was made or saved since the event came in (the same millisecond counts: which came first is unknown). */
function sinceEvent(webhook: Webhook, receivedAt: string): "made" | "changed" | null {
  if (webhook.created_at >= receivedAt) return "made";
  return webhook.updated_at >= receivedAt ? "changed" : null;
}

/** The rules that made no delivery of the event, each with what leaves the event out of it now, nearest first; at most RULES_SHOWN. */
export async function rulesWithoutDelivery(
  event: CanonicalEvent,
  receivedAt: string,
  rules: Webhook[],
  deliveries: DeliveryRow[],
): Promise<RulesWithoutDelivery> {
  const delivering = new Set(deliveries.map((delivery) => delivery.webhook_id));
  const others = rules.filter((rule) => !delivering.has(rule.id));
  const judged = await Promise.all(
    others.map(async (rule) => ({ id: rule.id, name: rule.name, unmatched: await leftOutBy(rule, event), since_event: sinceEvent(rule, receivedAt) })),
  );
  judged.sort((a, b) => NEAREST_FIRST.indexOf(a.unmatched) - NEAREST_FIRST.indexOf(b.unmatched));
  return { rules: judged.slice(0, RULES_SHOWN), more: Math.max(0, judged.length - RULES_SHOWN) };
}

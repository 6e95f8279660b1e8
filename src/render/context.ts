import type { CanonicalEvent } from "../domain/event.js";
import type { WebhookSpec } from "../domain/webhook.js";

/** What filters, params and templates see: the canonical event, with the rule's hangup-cause names applied. */
export function evaluationContext(
  event: CanonicalEvent,
  hangupCauses: WebhookSpec["hangup_causes"],
): Record<string, unknown> {
  const cause = event.hangup_cause;
  const renamed = cause ? hangupCauses[cause] : undefined;
  return renamed === undefined ? { ...event } : { ...event, hangup_cause: renamed };
}

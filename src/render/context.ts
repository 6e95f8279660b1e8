import type { CanonicalEvent } from "../domain/event.js";
import type { WebhookSpec } from "../domain/webhook.js";

/**
 * What filters, params and templates see: the canonical event, with the rule's hangup-cause names applied,
 * and the rule's preset settings as `config`.
 */
export function evaluationContext(
  event: CanonicalEvent,
  hangupCauses: WebhookSpec["hangup_causes"],
  config: Record<string, unknown> = {},
): Record<string, unknown> {
  const cause = event.hangup_cause;
  const renamed = cause ? hangupCauses[cause] : undefined;
  return { ...event, ...(renamed === undefined ? {} : { hangup_cause: renamed }), config };
}

import type { CanonicalEvent } from "../domain/event.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { MESSAGE_ID_PATTERN, messageGroupTemplate } from "../domain/sqs.js";
import type { WebhookSpec } from "../domain/webhook.js";
import { evaluationContext } from "./context.js";
import { renderTemplate } from "./handlebars/index.js";
import { RenderError, renderRequest, type RenderableRule } from "./request.js";

type RenderableMessageRule = RenderableRule & Pick<WebhookSpec, "sqs">;

function renderGroupId(template: string, rule: RenderableMessageRule, event: CanonicalEvent, partials: Record<string, string>): string {
  const field = "sqs.message_group_id";
  let value: string;
  try {
    value = renderTemplate(template, evaluationContext(event, rule.hangup_causes, {}), { partials, escape: "none" }).trim();
  } catch (error) {
    throw new RenderError(field, (error as Error).message);
  }
  if (!MESSAGE_ID_PATTERN.test(value)) {
    throw new RenderError(field, `rendered "${value.slice(0, 200)}", which is not a MessageGroupId: 1 to 128 letters, digits or punctuation, no spaces`);
  }
  return value;
}

/**
 * Webhook rule + event -> the SQS message it sends: the body a JSON POST of the same rule would carry (its
 * params as a JSON object, or its body template), to the queue at `url`, with its group id on a FIFO queue.
 */
export async function renderSqsMessage(
  rule: RenderableMessageRule,
  event: CanonicalEvent,
  partials: Record<string, string> = {},
): Promise<RenderedRequest> {
  const { url, body } = await renderRequest({ ...rule, method: "POST_JSON", headers: {} }, event, partials);
  if (!body) throw new RenderError(rule.body_template !== null ? "body_template" : "params", "an SQS message body cannot be empty");
  const template = rule.sqs ? messageGroupTemplate(rule.sqs, url) : null;
  const message_group_id = template === null ? null : renderGroupId(template, rule, event, partials);
  return { method: "POST", url, headers: {}, body, sqs: { message_group_id } };
}

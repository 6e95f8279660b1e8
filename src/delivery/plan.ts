import type { CanonicalEvent } from "../domain/event.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { isTruthy, ruleApplies, unmatchedBy, type MatchField } from "../domain/match.js";
import type { Webhook } from "../domain/webhook.js";
import { evaluationContext } from "../render/context.js";
import { evaluateExpression } from "../render/jsonata.js";
import { bodyEscapeModeOf, RenderError, renderRequest, renderTexts } from "../render/request.js";
import { renderSqsMessage } from "../render/sqs-message.js";
import { yieldIfSliceLong } from "../render/time-slice.js";
import { fixedCredentials, withCredentialPlaceholders } from "./credential-headers.js";
import { queryPlaceholderNames, withQueryPlaceholders } from "./credential-query.js";
import { destinationStamp } from "./destination.js";
import { secretNames, templateConfig } from "../presets/config.js";
import { alteredSecretIn, newPlaceholderMark } from "../presets/secrets.js";
import { presetById } from "../presets/registry.js";
import type { Preset } from "../presets/schema.js";
import { withTextLimits } from "../presets/text-limits.js";

/** A delivery about to be created: its rendered request, or why it could not be rendered. */
export type DeliveryDraft =
  | { webhook: Webhook; request: RenderedRequest; error: null }
  | { webhook: Webhook; request: null; error: string };

/** Whether the rule's JSONata filter passes for the event; throws ExpressionError when it cannot be evaluated. */
async function filterPasses(webhook: Webhook, event: CanonicalEvent): Promise<boolean> {
  if (webhook.filter === null) return true;
  const preset = presetById(webhook.preset);
  // A filter yields a verdict, never a request: its placeholders are never filled in.
  const context = evaluationContext(event, webhook.hangup_causes, templateConfig(preset, webhook.preset_config, newPlaceholderMark()));
  return isTruthy(await evaluateExpression(webhook.filter, context));
}

/**
 * The first of the rule's fields that leaves the event out, in MATCH_FIELDS' order (the filter, evaluated only
 * when the others let the event through, last); null when the rule takes it. Throws ExpressionError.
 */
export async function unmatchedField(webhook: Webhook, event: CanonicalEvent): Promise<MatchField | null> {
  return unmatchedBy(webhook, event) ?? ((await filterPasses(webhook, event)) ? null : "filter");
}

/** The filter's verdict, or why it failed: reported as a failed delivery, not swallowed. */
async function filterVerdict(webhook: Webhook, event: CanonicalEvent): Promise<boolean | string> {
  try {
    return await filterPasses(webhook, event);
  } catch (error) {
    return `filter: ${(error as Error).message}`;
  }
}

/**
 * A secret is filled in only when sent, where its placeholder stands as rendered: one an expression or helper
 * changed (`$uppercase(config.secret_key)`, a base64 of it, a block helper around a query credential) would go
 * out as placeholder text, not the secret.
 */
function refuseAlteredSecrets(webhook: Webhook, preset: Preset | undefined, request: RenderedRequest, mark: string): void {
  const names = new Set([...(preset ? secretNames(preset) : []), ...queryPlaceholderNames(webhook)]);
  const where = alteredSecretIn(request, mark, names);
  if (where === null) return;
  const field = where === "body" ? (webhook.body_template !== null ? "body_template" : "params") : where;
  throw new RenderError(field, "a secret setting is changed here (by an expression or helper): secrets are filled in when sent, so they can only be inserted as they are");
}

/** The request of a rule with a preset, its secret settings as placeholders bearing `mark`, with the preset's meta; throws RenderError. */
async function renderPresetRequest(
  webhook: Webhook,
  preset: Preset,
  event: CanonicalEvent,
  partials: Record<string, string>,
  mark: string,
): Promise<RenderedRequest> {
  const config = templateConfig(preset, webhook.preset_config, mark);
  const request = withTextLimits(await renderRequest(withUrlPlaceholders(webhook, mark), event, partials, config), preset.text_limits);
  refuseAlteredSecrets(webhook, preset, request, mark);
  if (Object.keys(preset.meta).length === 0) return request;
  try {
    return { ...request, meta: renderTexts(preset.meta, event, partials, config) };
  } catch (error) {
    throw new RenderError("preset meta", (error as Error).message);
  }
}

/** The rule, its URL's fixed query credentials as placeholders bearing `mark` (credential-query.ts). */
const withUrlPlaceholders = (webhook: Webhook, mark: string): Webhook => ({ ...webhook, url: withQueryPlaceholders(webhook, mark) });

/** The request of a rule without a preset, its URL's fixed query credentials as placeholders bearing `mark`; throws RenderError. */
async function renderCustomRequest(webhook: Webhook, event: CanonicalEvent, partials: Record<string, string>, mark: string): Promise<RenderedRequest> {
  const request = await renderRequest(withUrlPlaceholders(webhook, mark), event, partials, webhook.preset_config);
  refuseAlteredSecrets(webhook, undefined, request, mark);
  return request;
}

/**
 * The rule's request for the event, with its preset's settings and meta; throws RenderError. Its secrets (a
 * preset's secret settings, the rule's fixed credential headers and query credentials) are placeholders, filled
 * in when each attempt is sent while the rule sends where it did (`secrets_for`).
 */
export async function renderRuleRequest(
  webhook: Webhook,
  event: CanonicalEvent,
  partials: Record<string, string>,
): Promise<RenderedRequest> {
  if (webhook.transport === "sqs") return renderSqsMessage(webhook, event, partials);
  const preset = presetById(webhook.preset);
  // A rule without a secret sends what it rendered, wherever it sends.
  if (!preset && fixedCredentials(webhook).size === 0 && queryPlaceholderNames(webhook).length === 0) {
    return renderRequest(webhook, event, partials, webhook.preset_config);
  }
  const mark = newPlaceholderMark();
  const rendered = preset ? await renderPresetRequest(webhook, preset, event, partials, mark) : await renderCustomRequest(webhook, event, partials, mark);
  const request = withCredentialPlaceholders(rendered, webhook, mark);
  return { ...request, secrets_mark: mark, secrets_escape: bodyEscapeModeOf(webhook), secrets_for: await destinationStamp(webhook, preset) };
}

/** The rule's request for the event, or the reason it could not be rendered. */
export async function renderDraft(
  webhook: Webhook,
  event: CanonicalEvent,
  partials: Record<string, string>,
): Promise<DeliveryDraft> {
  // Each event's templates are rendered in a task of their own when rendering has held the event loop a while.
  await yieldIfSliceLong();
  try {
    return { webhook, request: await renderRuleRequest(webhook, event, partials), error: null };
  } catch (error) {
    return { webhook, request: null, error: (error as Error).message };
  }
}

async function draftFor(webhook: Webhook, event: CanonicalEvent, partials: Record<string, string>) {
  const verdict = await filterVerdict(webhook, event);
  if (verdict === false) return null;
  if (typeof verdict === "string") return { webhook, request: null, error: verdict } satisfies DeliveryDraft;
  return renderDraft(webhook, event, partials);
}

/** Matches an event against the rules and renders one delivery per matching rule. */
export async function planDeliveries(
  event: CanonicalEvent,
  webhooks: Webhook[],
  partials: Record<string, string>,
): Promise<DeliveryDraft[]> {
  const drafts = await Promise.all(
    webhooks.filter((webhook) => ruleApplies(webhook, event)).map((webhook) => draftFor(webhook, event, partials)),
  );
  return drafts.filter((draft): draft is DeliveryDraft => draft !== null);
}

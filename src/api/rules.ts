import { isoAt } from "../clock.js";
import { urlRefusal } from "../delivery/address-policy.js";
import { SIGNED_HEADERS } from "../delivery/signing.js";
import { invalidField, parseWith } from "../domain/errors.js";
import { ID_PREFIX, newId, newWebhookSecret } from "../domain/ids.js";
import { keepUnlessChanged, mergeHeaders, mergeUrl } from "../domain/mask.js";
import { queueNameOf, sqsRegion, sqsSettingsSchema, type SqsSettings } from "../domain/sqs.js";
import {
  createWebhookSchema,
  disabledByHand,
  onePayload,
  patchWebhookSchema,
  WEBHOOK_DEFAULTS,
  type Webhook,
  type WebhookPatch,
} from "../domain/webhook.js";
import { authOf } from "../presets/auth.js";
import { resolveConfig } from "../presets/config.js";
import { allPresets, presetById } from "../presets/registry.js";
import type { Preset } from "../presets/schema.js";
import { checkRule } from "../render/check.js";
import { refuseCredentialsMoved } from "./credential-destination.js";
import type { AppDeps } from "./deps.js";
import { createWebhookRequestSchema } from "./webhook-create.js";

/** An SQS rule: a fixed queue URL whose region is known, credentials, and none of what only HTTP has. */
function checkSqsRule(webhook: Webhook): void {
  const { sqs, url } = webhook;
  if (webhook.transport === "http") {
    if (sqs !== null) throw invalidField("sqs", 'only an SQS webhook has sqs settings: set transport to "sqs", or sqs to null');
    return;
  }
  if (sqs === null) {
    throw invalidField("sqs", "an SQS webhook needs sqs: {access_key_id, secret_access_key}, and region when the queue URL does not show it");
  }
  if (webhook.preset !== null) throw invalidField("transport", "a preset sends HTTP requests to its service; an SQS webhook is a custom one");
  if (webhook.method !== "POST_JSON") {
    throw invalidField("method", "an SQS message body is the params as a JSON object or the body template: use POST_JSON (the default)");
  }
  if (Object.keys(webhook.headers).length) {
    throw invalidField("headers", "an SQS message has no HTTP headers; leave headers empty (the signature goes in the X-SIGNATURE attribute)");
  }
  if (url.includes("{{")) throw invalidField("url", "an SQS queue URL is fixed: no Handlebars expressions");
  if (!queueNameOf(url)) {
    throw invalidField("url", "must be an SQS queue URL ending in the queue's name, e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/calls");
  }
  if (!sqsRegion(sqs, url)) {
    throw invalidField("sqs.region", "give the queue's region (e.g. eu-west-1): it cannot be read from this queue URL's host");
  }
}

/**
 * A rule header named like one the gateway sets on each attempt (`webhook-id`, the rule's signature, its preset's
 * credentials) is refused, as Svix refuses its own: one value would silently replace the other, and the
 * integrator should learn that when saving, not from a receiver.
 */
function checkGatewayHeaders(webhook: Webhook): void {
  const named = (names: readonly string[]) =>
    Object.keys(webhook.headers).find((header) => names.some((name) => name.toLowerCase() === header.toLowerCase()));
  const signed = named(SIGNED_HEADERS[webhook.signing]);
  if (signed !== undefined) {
    throw invalidField(`headers.${signed}`, `the gateway sets it on every attempt (webhook-id, and the signature of signing "${webhook.signing}"): leave it out`);
  }
  const credential = named(Object.keys(authOf(presetById(webhook.preset)).previewHeaders ?? {}));
  if (credential !== undefined) throw invalidField(`headers.${credential}`, `the ${webhook.preset} preset sets it on every attempt: leave it out`);
}

/**
 * The expressions and templates of a rule that `changes` names, for checkRule. Those an edit leaves alone
 * compiled when saved, by this version or an earlier one whose checks were fewer (a regex refused since, a
 * partial removed since): a delivery through them fails visibly, and the rule must stay easy to disable.
 */
function changedTemplates(webhook: Webhook, changes: (field: keyof WebhookPatch) => boolean) {
  return {
    filter: changes("filter") ? webhook.filter : null,
    params: changes("params") ? webhook.params : null,
    body_template: changes("body_template") ? webhook.body_template : null,
    url: changes("url") ? webhook.url : "",
    headers: changes("headers") ? webhook.headers : {},
    sqs: changes("sqs") ? webhook.sqs : null,
  };
}

/** Every source the rule names exists: else a 400 naming the first that does not. */
export async function checkSources(deps: AppDeps, webhook: Webhook): Promise<void> {
  for (const [index, id] of webhook.source_ids.entries()) {
    if (!(await deps.store.sources.get(id))) throw invalidField(`source_ids.${index}`, `no source ${id}`);
  }
}

/**
 * Checks what the schema cannot: cross-field rules, referenced sources, and that every expression compiles.
 * For an edit (`patch`), what refers outside the rule (its sources, headers beside the signing) and its
 * expressions and templates are checked only when the edit changes them: a rule whose source was deleted, or
 * saved before a check existed, can still be disabled or renamed.
 */
async function validated(deps: AppDeps, webhook: Webhook, patch?: WebhookPatch): Promise<Webhook> {
  const changes = (field: keyof WebhookPatch) => patch === undefined || patch[field] !== undefined;
  checkSqsRule(webhook);
  if (changes("headers") || changes("signing")) checkGatewayHeaders(webhook);
  if (!onePayload(webhook)) {
    throw invalidField("body_template", "give either params or body_template, not both; set the other to null");
  }
  if (webhook.method === "GET" && webhook.body_template !== null) {
    throw invalidField("body_template", "a GET request has no body; use params for the query string");
  }
  if (webhook.preset === null && Object.keys(webhook.preset_config).length) {
    throw invalidField("preset_config", "only a preset rule has settings: set preset, or leave preset_config empty");
  }
  if (changes("source_ids")) await checkSources(deps, webhook);
  checkRule(changedTemplates(webhook, changes), deps.partials);
  return webhook;
}

function presetNamed(id: string): Preset {
  const preset = presetById(id);
  if (preset) return preset;
  throw invalidField("preset", `no preset "${id}"; one of ${allPresets().map((p) => p.id).join(", ")}`);
}

/**
 * The rule a preset fills in, under what the integrator gave: any field may be overridden, and a payload
 * the integrator gives (params or body_template) replaces the preset's.
 */
function withPreset(input: WebhookPatch): WebhookPatch {
  if (!input.preset) return input;
  const preset = presetNamed(input.preset);
  const { params, body_template, ...presetRule } = preset.webhook;
  const ownPayload = input.params != null || input.body_template != null;
  const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
  return {
    ...presetRule,
    ...(ownPayload ? {} : { params: params ?? null, body_template: body_template ?? null }),
    ...given,
    preset_config: resolveConfig(preset, input.preset_config ?? {}),
  };
}

/**
 * The URL a request gives, unless its host is an IP literal (or localhost) the SSRF guard would refuse: caught
 * when saved rather than at the first delivery. Names are checked where they resolve, when connecting.
 */
function refuseBlockedUrl(deps: AppDeps, url: string | undefined, field = "url"): void {
  const refusal = url === undefined ? null : urlRefusal(url, deps.outboundAllow);
  if (refusal) throw invalidField(field, refusal);
}

/** The same for the URL settings a request gives a preset (its URL is a template over them: `{{instance_url}}/...`). */
function refuseBlockedPresetUrls(deps: AppDeps, preset: Preset | undefined, given: Record<string, unknown> | undefined): void {
  for (const [name, value] of Object.entries(given ?? {})) {
    if (preset?.config[name]?.type === "url" && typeof value === "string") refuseBlockedUrl(deps, value, `preset_config.${name}`);
  }
}

/** A new rule from a create request: the preset's fields and defaults filled in, a signing secret generated. */
export async function ruleFromInput(deps: AppDeps, body: unknown): Promise<Webhook> {
  // The preset's fields under the request's, then complete as a custom rule must be.
  const request = parseWith(createWebhookRequestSchema, body);
  const input = parseWith(createWebhookSchema, withPreset(request));
  refuseBlockedUrl(deps, input.url);
  refuseBlockedPresetUrls(deps, presetById(input.preset), request.preset_config);
  const now = deps.clock.now();
  return validated(deps, {
    ...WEBHOOK_DEFAULTS,
    ...input,
    secret: input.secret ?? newWebhookSecret(),
    id: newId(ID_PREFIX.webhook, now),
    disabled: input.enabled === false ? disabledByHand(isoAt(now)) : null,
    created_at: isoAt(now),
    updated_at: isoAt(now),
  });
}

/** SQS settings with a PATCH's applied: the settings it names replace the stored ones; a masked secret keeps the stored one. */
function sqsWithPatch(patch: WebhookPatch["sqs"], current: SqsSettings | null): SqsSettings | null {
  if (patch === undefined) return current;
  if (patch === null) return null;
  const merged = { ...current, ...patch };
  if (current && patch.secret_access_key) merged.secret_access_key = keepUnlessChanged(patch.secret_access_key, current.secret_access_key);
  return parseWith(sqsSettingsSchema, merged, "sqs");
}

/** Why the rule is off after a PATCH of `enabled`: by hand when this turns it off, nothing once it is on. */
function disabledAfter(current: Webhook, enabled: boolean | undefined, now: string): Webhook["disabled"] {
  if (enabled === undefined || enabled === current.enabled) return current.disabled;
  return enabled ? null : disabledByHand(now);
}

/**
 * A rule with a PATCH applied; masked secrets sent back unchanged keep their stored values, unless the edit
 * moves the rule to another destination.
 */
export async function ruleWithPatch(deps: AppDeps, current: Webhook, body: unknown): Promise<Webhook> {
  const patch: WebhookPatch = parseWith(patchWebhookSchema, body);
  if (patch.preset !== undefined && patch.preset !== current.preset) {
    throw invalidField("preset", "a rule's preset cannot change; create a new webhook");
  }
  // Only a changed URL: a rule saved before OUTBOUND_ALLOW was narrowed can still be disabled or edited.
  refuseBlockedUrl(deps, patch.url);
  const preset = current.preset ? presetNamed(current.preset) : undefined;
  refuseBlockedPresetUrls(deps, preset, patch.preset_config ?? undefined);
  const now = isoAt(deps.clock.now());
  const patched: Webhook = {
    ...current,
    ...patch,
    disabled: disabledAfter(current, patch.enabled, now),
    preset_config:
      preset && patch.preset_config ? resolveConfig(preset, patch.preset_config, current.preset_config) : (patch.preset_config ?? current.preset_config),
    url: patch.url !== undefined ? mergeUrl(patch.url, current.url) : current.url,
    headers: patch.headers ? mergeHeaders(patch.headers, current.headers) : current.headers,
    secret: patch.secret ? keepUnlessChanged(patch.secret, current.secret) : current.secret,
    sqs: sqsWithPatch(patch.sqs, current.sqs),
    updated_at: now,
  };
  refuseCredentialsMoved(current, patched, patch, preset);
  return validated(deps, patched, patch);
}

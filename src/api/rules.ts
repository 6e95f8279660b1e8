import { isoAt } from "../clock.js";
import { GatewayError, parseWith } from "../domain/errors.js";
import { ID_PREFIX, newId, newWebhookSecret } from "../domain/ids.js";
import { keepUnlessChanged, mergeHeaders } from "../domain/mask.js";
import {
  createWebhookSchema,
  onePayload,
  patchWebhookSchema,
  WEBHOOK_DEFAULTS,
  type Webhook,
  type WebhookPatch,
} from "../domain/webhook.js";
import { checkRule } from "../render/check.js";
import type { AppDeps } from "./deps.js";

/** Checks what the schema cannot: cross-field rules, referenced sources, and that every expression compiles. */
async function validated(deps: AppDeps, webhook: Webhook): Promise<Webhook> {
  if (!onePayload(webhook)) {
    throw new GatewayError(400, "invalid_request", "body_template: give either params or body_template, not both", [
      { field: "body_template", message: "give either params or body_template, not both; set the other to null" },
    ]);
  }
  if (webhook.method === "GET" && webhook.body_template !== null) {
    throw new GatewayError(400, "invalid_request", "body_template: a GET request has no body; use params", [
      { field: "body_template", message: "a GET request has no body; use params for the query string" },
    ]);
  }
  if (webhook.preset !== null) {
    throw new GatewayError(400, "invalid_request", `preset: unknown preset "${webhook.preset}"`, [
      { field: "preset", message: "no presets are installed" },
    ]);
  }
  for (const [index, id] of webhook.source_ids.entries()) {
    if (!(await deps.store.sources.get(id))) {
      throw new GatewayError(400, "invalid_request", `source_ids.${index}: no source ${id}`, [
        { field: `source_ids.${index}`, message: `no source ${id}` },
      ]);
    }
  }
  checkRule(webhook, deps.partials);
  return webhook;
}

/** A new rule from a create request: defaults filled in, a signing secret generated if none was given. */
export async function ruleFromInput(deps: AppDeps, body: unknown): Promise<Webhook> {
  const input = parseWith(createWebhookSchema, body);
  const now = deps.clock.now();
  return validated(deps, {
    ...WEBHOOK_DEFAULTS,
    ...input,
    secret: input.secret ?? newWebhookSecret(),
    id: newId(ID_PREFIX.webhook, now),
    created_at: isoAt(now),
    updated_at: isoAt(now),
  });
}

/** A rule with a PATCH applied; masked secrets sent back unchanged keep their stored values. */
export async function ruleWithPatch(deps: AppDeps, current: Webhook, body: unknown): Promise<Webhook> {
  const patch: WebhookPatch = parseWith(patchWebhookSchema, body);
  return validated(deps, {
    ...current,
    ...patch,
    headers: patch.headers ? mergeHeaders(patch.headers, current.headers) : current.headers,
    secret: patch.secret ? keepUnlessChanged(patch.secret, current.secret) : current.secret,
    updated_at: isoAt(deps.clock.now()),
  });
}

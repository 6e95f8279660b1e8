import { GatewayError, problemsText, type FieldProblem } from "../domain/errors.js";
import { isSensitiveHeader } from "../domain/mask.js";
import type { Webhook, WebhookPatch } from "../domain/webhook.js";
import { destinationOf } from "../delivery/destination.js";
import type { Preset } from "../presets/schema.js";

// A stored credential (a masked header, a secret preset setting) is sent only where it was given for. An edit
// that moves the rule elsewhere must give each one again: otherwise whoever may edit rules, but may not read
// secrets, could point the rule at a server of their own and have the gateway send them the masked values.

/** The stored credentials the patched rule keeps without the PATCH giving them: sent back masked, or left out. */
function keptCredentials(current: Webhook, patched: Webhook, patch: WebhookPatch, preset: Preset | undefined): string[] {
  const kept = (stored: unknown, now: unknown, given: unknown) => typeof stored === "string" && stored !== "" && now === stored && given !== stored;
  const headers = Object.keys(current.headers)
    .filter((name) => isSensitiveHeader(name) && kept(current.headers[name], patched.headers[name], patch.headers?.[name]))
    .map((name) => `headers.${name}`);
  const settings = Object.keys(preset?.config ?? {})
    .filter((name) => preset!.config[name].secret)
    .filter((name) => kept(current.preset_config[name], patched.preset_config[name], patch.preset_config?.[name]))
    .map((name) => `preset_config.${name}`);
  return [...headers, ...settings];
}

/** A 400 naming each stored credential that an edit moving the rule to another destination would carry there unseen. */
export function refuseCredentialsMoved(current: Webhook, patched: Webhook, patch: WebhookPatch, preset: Preset | undefined): void {
  if (destinationOf(current, preset) === destinationOf(patched, preset)) return;
  const problems: FieldProblem[] = keptCredentials(current, patched, patch, preset).map((field) => ({
    field,
    message: "this edit changes where the rule sends (its URL's host, or a URL setting): give this credential again, as a stored one goes only where it was given for",
  }));
  if (problems.length) throw new GatewayError(400, "invalid_request", `Credentials not given again: ${problemsText(problems)}`, problems);
}

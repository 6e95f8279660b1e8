import { GatewayError, problemsText, type FieldProblem } from "../domain/errors.js";
import { isSensitiveHeader } from "../domain/mask.js";
import type { Webhook, WebhookPatch } from "../domain/webhook.js";
import type { Preset } from "../presets/schema.js";

// A stored credential (a masked header, a secret preset setting) is sent only where it was given for. An edit
// that moves the rule elsewhere must give each one again: otherwise whoever may edit rules, but may not read
// secrets, could point the rule at a server of their own and have the gateway send them the masked values.

/** A mustache that only prints a path (`{{agent.extension}}`, `{{{config.instance_url}}}`): no block, helper or partial. */
const PLAIN_MUSTACHE = /^\{\{\{?\s*[\w@.]+\s*\}?\}\}$/;

/** Where a URL template's path begins: what comes before is the scheme, host and port, mustaches included. */
const ORIGIN_PART = /^(?:[a-z][a-z0-9+.-]*:)?[/\\]*(?:\{\{[^]*?\}\}\}?|[^/\\?#{]|\{(?!\{))*/i;

/** The settings a text reads as `config.<name>`; all of them when it reads `config` another way (`lookup config ...`). */
function settingsRead(text: string, preset: Preset): string[] {
  const named = [...text.matchAll(/\bconfig\.([a-z][a-z0-9_]*)/g)].map((m) => m[1]);
  const otherwise = text.replace(/\bconfig\.[a-z][a-z0-9_]*/g, "").includes("config");
  return otherwise ? Object.keys(preset.config) : named;
}

/**
 * What decides the host a rule sends to: its URL up to the path (the whole URL when a block or helper there
 * could reach past it), the settings that part reads, and a preset's URL settings (its own calls, such as
 * Salesforce's token request, go there). A setting that must start with `/` writes a path, not a host.
 */
function destinationOf(rule: Pick<Webhook, "url" | "preset_config">, preset: Preset | undefined): string {
  const origin = ORIGIN_PART.exec(rule.url.trim())![0];
  const plain = (origin.match(/\{\{[^]*?\}\}\}?/g) ?? []).every((mustache) => PLAIN_MUSTACHE.test(mustache));
  const part = plain ? origin : rule.url;
  if (!preset) return part;
  const names = new Set(Object.keys(preset.config).filter((name) => preset.config[name].type === "url"));
  for (const name of settingsRead(part, preset)) if (!preset.config[name]?.pattern?.startsWith("^/")) names.add(name);
  const settings = [...names].filter((name) => !preset.config[name]?.secret).sort().map((name) => [name, rule.preset_config[name] ?? null]);
  return JSON.stringify([part, settings]);
}

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

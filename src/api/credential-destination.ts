import { GatewayError, problemsText, type FieldProblem } from "../domain/errors.js";
import { credentialParams, isSensitiveHeader } from "../domain/mask.js";
import { paramName } from "../domain/url-query.js";
import type { Webhook, WebhookPatch } from "../domain/webhook.js";
import { destinationOf } from "../delivery/destination.js";
import type { Preset } from "../presets/schema.js";

// A stored credential (a masked header, one in the URL's query, a secret preset setting) is sent only where it
// was given for. An edit that moves the rule elsewhere must give each one again: otherwise whoever may edit rules,
// but may not read secrets, could point the rule at a server of their own and have the gateway send them the
// masked values.

const kept = (stored: unknown, now: unknown, given: unknown) => typeof stored === "string" && stored !== "" && now === stored && given !== stored;

/** The values of the URL's query credentials named `name`, in order. */
const paramValues = (url: string, name: string) => credentialParams(url, true).filter((param) => param.name === name).map((param) => param.value);

/** The query credentials of the stored URL that the patched one keeps without the PATCH giving them, by name. */
function keptUrlCredentials(current: Webhook, patched: Webhook, patch: WebhookPatch): string[] {
  const names = new Set(credentialParams(current.url, true).map((param) => param.name));
  return [...names].filter((name) => {
    const [stored, now] = [paramValues(current.url, name), paramValues(patched.url, name)];
    const given = patch.url === undefined ? [] : paramValues(patch.url, name);
    return stored.some((value, index) => kept(value, now[index], given[index]));
  });
}

/** The stored credentials the patched rule keeps without the PATCH giving them (sent back masked, or left out), as problems. */
function keptCredentials(current: Webhook, patched: Webhook, patch: WebhookPatch, preset: Preset | undefined): FieldProblem[] {
  const again = (what: string) =>
    `this edit changes where the rule sends (its URL's host, or a URL setting): give ${what} again, as a stored one goes only where it was given for`;
  const message = again("this credential");
  const headers = Object.keys(current.headers)
    .filter((name) => isSensitiveHeader(name) && kept(current.headers[name], patched.headers[name], patch.headers?.[name]))
    .map((name) => ({ field: `headers.${name}`, message }));
  const query = keptUrlCredentials(current, patched, patch).map((name) => ({ field: "url", message: again(`the credential in its query parameter ${paramName(name)}`) }));
  const settings = Object.keys(preset?.config ?? {})
    .filter((name) => preset!.config[name].secret)
    .filter((name) => kept(current.preset_config[name], patched.preset_config[name], patch.preset_config?.[name]))
    .map((name) => ({ field: `preset_config.${name}`, message }));
  return [...headers, ...query, ...settings];
}

/** A 400 naming each stored credential that an edit moving the rule to another destination would carry there unseen. */
export function refuseCredentialsMoved(current: Webhook, patched: Webhook, patch: WebhookPatch, preset: Preset | undefined): void {
  if (destinationOf(current, preset) === destinationOf(patched, preset)) return;
  const problems = keptCredentials(current, patched, patch, preset);
  if (problems.length) throw new GatewayError(400, "invalid_request", `Credentials not given again: ${problemsText(problems)}`, problems);
}

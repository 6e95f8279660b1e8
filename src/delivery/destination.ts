import { sha256Hex } from "../domain/crypto.js";
import type { RenderedRequest } from "../domain/delivery.js";
import type { Webhook } from "../domain/webhook.js";
import type { Preset } from "../presets/schema.js";

// Where a rule sends, as far as its saved fields decide: its credentials (masked headers, secret preset settings)
// go only there. An edit that changes it must give them again (api/credential-destination.ts), and a delivery
// made before such an edit is not sent with the credentials given since (see destinationStamp).

/** A mustache that only prints a path (`{{agent.extension}}`, `{{{config.instance_url}}}`): no block, helper or partial. */
const PLAIN_MUSTACHE = /^\{\{\{?\s*[\w@.]+\s*\}?\}\}$/;

/** Where a URL template's path begins: what comes before is the scheme, host and port, mustaches included. */
const ORIGIN_PART = /^(?:[a-z][a-z0-9+.-]*:)?[/\\]*(?:\{\{[^]*?\}\}\}?|[^/\\?#{]|\{(?!\{))*/i;

/**
 * An origin part that names its host in its own text (`https://{{agent.extension}}.crm.example`), or is only
 * settings (`{{{config.instance_url}}}`, in the destination by value). Otherwise a value left empty may let the
 * path name the host: `http://{{crm_host}}/crm.example/x` renders `http:///crm.example/x`, whose host is
 * crm.example (URL parsing skips the extra slashes), and so does `{{scheme}}http://crm.example/x`.
 */
function namesItsHost(origin: string): boolean {
  const text = origin.replace(/\{\{[^]*?\}\}\}?/g, "");
  return /^[a-z][a-z0-9+.-]*:[/\\]*[^\s\x00-\x1f/\\?#]/i.test(text) || /^(?:\{\{\{?\s*config\.\w+\s*\}?\}\})+$/.test(origin);
}

/** The settings a text reads as `config.<name>`; all of them when it reads `config` another way (`lookup config ...`). */
function settingsRead(text: string, preset: Preset): string[] {
  const named = [...text.matchAll(/\bconfig\.([a-z][a-z0-9_]*)/g)].map((m) => m[1]);
  const otherwise = text.replace(/\bconfig\.[a-z][a-z0-9_]*/g, "").includes("config");
  return otherwise ? Object.keys(preset.config) : named;
}

/**
 * What decides the host a rule sends to: its URL up to the path (the whole URL when a block or helper there
 * could reach past it, or a value left empty could let the path name the host), the settings that part reads,
 * and a preset's URL settings (its own calls, such as Salesforce's token request, go there). A setting that must
 * start with `/` writes a path, not a host.
 */
export function destinationOf(rule: Pick<Webhook, "url" | "preset_config">, preset: Preset | undefined): string {
  const origin = ORIGIN_PART.exec(rule.url.trim())![0];
  // `\{{` renders as `{{`, its backslash gone: the host part may run on past where it seems to end.
  const mustaches = origin.match(/\{\{[^]*?\}\}\}?/g) ?? [];
  const plain = mustaches.every((mustache) => PLAIN_MUSTACHE.test(mustache)) && !rule.url.includes("\\{{") && namesItsHost(origin);
  const part = plain ? origin : rule.url;
  if (!preset) return part;
  const names = new Set(Object.keys(preset.config).filter((name) => preset.config[name].type === "url"));
  for (const name of settingsRead(part, preset)) if (!preset.config[name]?.pattern?.startsWith("^/")) names.add(name);
  const settings = [...names].filter((name) => !preset.config[name]?.secret).sort().map((name) => [name, rule.preset_config[name] ?? null]);
  return JSON.stringify([part, settings]);
}

/** Digests by destination: a rule's is the same for each of its deliveries and attempts until it is edited. */
const stamps = new Map<string, Promise<string>>();
/** Destinations whose digest is kept; past that the map starts again (a digest is 35 µs of WebCrypto on Node). */
const STAMPS_KEPT = 1_000;

/**
 * A short digest of the rule's destination, kept with each request whose secrets are filled in only when sent
 * (a preset's, or one with fixed credential headers): a delivery made for one destination is not sent, with
 * credentials given since for another.
 */
export function destinationStamp(rule: Pick<Webhook, "url" | "preset_config">, preset: Preset | undefined): Promise<string> {
  const destination = destinationOf(rule, preset);
  let stamp = stamps.get(destination);
  if (!stamp) {
    if (stamps.size >= STAMPS_KEPT) stamps.clear();
    stamp = sha256Hex(destination).then((hex) => hex.slice(0, 32));
    stamps.set(destination, stamp);
  }
  return stamp;
}

/** Whether the request was made for another destination than the rule's now (its URL or a URL setting changed since). */
export async function madeForElsewhere(request: RenderedRequest, rule: Pick<Webhook, "url" | "preset_config">, preset: Preset | undefined): Promise<boolean> {
  return request.secrets_for !== undefined && request.secrets_for !== (await destinationStamp(rule, preset));
}

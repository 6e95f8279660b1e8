import { GatewayError, problemsText, type FieldProblem } from "../domain/errors.js";
import { keepUnlessChanged, maskSecret } from "../domain/mask.js";
import type { Preset, PresetField } from "./schema.js";
import { secretPlaceholder } from "./secrets.js";

type PresetConfig = Record<string, string | boolean>;

/** An IANA time zone, as the `date` helper takes it: an unknown one would fail every render, so it is refused here. */
function timeZoneOf(name: string, field: PresetField): { value?: string; problem?: string } {
  try {
    return { value: new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone };
  } catch {
    return { problem: `must be an IANA time zone, e.g. ${field.example ?? "Europe/London"}` };
  }
}

function checkedValue(field: PresetField, value: unknown): { value?: string | boolean; problem?: string } {
  if (field.type === "boolean") return typeof value === "boolean" ? { value } : { problem: "must be true or false" };
  if (typeof value !== "string") return { problem: "must be a string" };
  if (value.length > 4096) return { problem: "is longer than 4096 characters" };
  if (field.pattern !== undefined && !new RegExp(field.pattern).test(value)) return { problem: field.mismatch ?? `must be written like ${field.example}` };
  if (field.type === "time_zone") return timeZoneOf(value.trim(), field);
  if (field.type !== "url") return { value };
  // Pasted with spaces around it, it would still parse here but not once a path is appended.
  const text = value.trim();
  try {
    const url = new URL(text);
    if (url.protocol !== "https:" && url.protocol !== "http:") return { problem: "must be an http(s) URL" };
    // As in a rule's URL: neither would be sent.
    if (url.username || url.password) return { problem: "must not carry user:password, which is never sent" };
    if (url.href.includes("#")) return { problem: "must not have a #fragment, which is never sent" };
    // Paths are appended to it, which would land in the query.
    if (url.href.includes("?")) return { problem: "must not have a ?query: paths are appended to it" };
  } catch {
    return { problem: `must be a full URL with scheme, e.g. ${field.example ?? "https://example.com"}` };
  }
  // Templates append paths to it: one form, without a trailing slash.
  return { value: text.replace(/\/+$/, "") };
}

/**
 * A rule's `preset_config`: the preset's settings validated, defaults filled in, and (on an update) stored
 * secrets kept where the caller sent back their masked form. A 400 names each wrong setting.
 */
export function resolveConfig(preset: Preset, input: Record<string, unknown>, stored: Record<string, unknown> = {}): PresetConfig {
  const problems: FieldProblem[] = [];
  for (const name of Object.keys(input)) {
    // Own settings only: `constructor` is in every object, and no setting.
    if (!Object.hasOwn(preset.config, name)) problems.push({ field: `preset_config.${name}`, message: `not a setting of ${preset.id}` });
  }
  const config: PresetConfig = {};
  for (const [name, field] of Object.entries(preset.config)) {
    let value = input[name] ?? stored[name] ?? field.default;
    // An emptied setting goes back to its default: without it the request would be sent incomplete (`/v/sobjects`).
    if (value === "" && field.default !== undefined) value = field.default;
    if (field.secret && typeof value === "string" && typeof stored[name] === "string") {
      value = keepUnlessChanged(value, stored[name] as string);
    }
    if (value === undefined || value === "") {
      if (field.required) problems.push({ field: `preset_config.${name}`, message: `required: ${field.description}` });
      continue;
    }
    const checked = checkedValue(field, value);
    if (checked.problem) problems.push({ field: `preset_config.${name}`, message: checked.problem });
    else config[name] = checked.value!;
  }
  if (problems.length) {
    throw new GatewayError(400, "invalid_request", `Invalid preset settings: ${problemsText(problems)}`, problems);
  }
  return config;
}

/** The settings as shown in responses: secrets masked. */
export function maskedConfig(preset: Preset | undefined, config: Record<string, unknown>): Record<string, unknown> {
  if (!preset) return config;
  return Object.fromEntries(
    Object.entries(config).map(([name, value]) => [
      name,
      preset.config[name]?.secret && typeof value === "string" ? maskSecret(value) : value,
    ]),
  );
}

/**
 * The settings as templates see them (`config.*`): a secret is a placeholder bearing `mark`, filled in only
 * when sending.
 */
export function templateConfig(preset: Preset | undefined, config: Record<string, unknown>, mark: string): Record<string, unknown> {
  if (!preset) return config;
  return Object.fromEntries(
    Object.entries(config).map(([name, value]) => [name, preset.config[name]?.secret ? secretPlaceholder(name, mark) : value]),
  );
}

/** The names of the preset's secret settings: those a placeholder may name. */
export function secretNames(preset: Preset): ReadonlySet<string> {
  return new Set(Object.keys(preset.config).filter((name) => preset.config[name].secret));
}

/** The secret settings' real values, by name, for the send. */
export function secretValues(preset: Preset | undefined, config: Record<string, unknown>): Record<string, string> {
  if (!preset) return {};
  return Object.fromEntries(
    Object.entries(config).filter(([name, value]) => preset.config[name]?.secret && typeof value === "string") as [string, string][],
  );
}

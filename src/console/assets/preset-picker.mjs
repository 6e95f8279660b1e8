// The webhook form's Start from section: the preset picker, and the settings the chosen preset asks for.

import { h, valueOf } from "./dom.mjs";
import { labelled, select, text } from "./fields.mjs";
import { fill, NEW_RULE, ruleOf } from "./webhook-controls.mjs";

/** The settings a preset asks for (`preset_config`): one control each, secrets as password inputs. */
function presetSettings(preset, errors) {
  const controls = new Map();
  const fields = Object.entries(preset.config).map(([name, field]) => {
    const control =
      field.type === "boolean"
        ? h("input", { type: "checkbox" })
        : text({
            type: field.secret ? "password" : field.type === "url" ? "url" : "text",
            autocomplete: field.secret ? "new-password" : "off",
            placeholder: field.example ?? (typeof field.default === "string" ? field.default : ""),
            required: field.required,
          });
    controls.set(name, control);
    const label = `${field.label}${field.required ? " (required)" : ""}`;
    return labelled(label, control, { hint: field.description, errors, path: `preset_config.${name}` });
  });
  return {
    element: h("div", { class: "preset-settings", id: "preset-settings" }, fields),
    read: () =>
      Object.fromEntries(
        [...controls].map(([name, control]) => [name, valueOf(control)]).filter(([, value]) => value !== ""),
      ),
    set(config) {
      for (const [name, control] of controls) {
        const value = config[name] ?? preset.config[name].default;
        if (control.type === "checkbox") control.checked = value === true;
        else control.value = value ?? "";
      }
    },
  };
}

/** The parts of a rule a preset decides (besides its own settings); a preset is HTTP only, so transport too. */
function presetSets(preset, key) {
  return Boolean(preset) && (Object.hasOwn(preset.webhook, key) || ["preset_config", "transport", "sqs"].includes(key));
}

const FIELD_NAMES = { url: "URL", preset_config: "the preset's settings", body_template: "body template", params: "payload", content_type: "content type", sqs: "SQS settings" };

function replaceQuestion(preset, keys) {
  const names = keys.map((key) => FIELD_NAMES[key] ?? key.replaceAll("_", " "));
  return `${preset ? `The preset “${preset.name}”` : "A custom webhook"} replaces what you changed: ${names.join(", ")}. Replace it?`;
}

/** What the chosen preset is, above its settings; or what a custom webhook is. */
function presetSummary(preset, settings) {
  if (!preset) return h("p", { class: "hint" }, "A custom webhook: you write the URL and the payload.");
  const docs = preset.docs ? h("a", { href: preset.docs, target: "_blank", rel: "noopener noreferrer" }, "API documentation") : null;
  return h("div", {}, h("p", { class: "hint" }, preset.description, " ", docs), settings.element);
}

/** The fields whose values differ between two rules. */
function changedFields(before, after) {
  return [...new Set([...Object.keys(after), ...Object.keys(before)])].filter((key) => JSON.stringify(after[key]) !== JSON.stringify(before[key]));
}

/**
 * The picker and, in `box`, what the chosen preset is and its settings. `start(config)` takes the controls as
 * filled, with the preset's settings from `config`, as unchanged; `refilled()` runs after a change of preset
 * has filled the controls anew.
 */
export function presetPicker({ presets, existing, c, errors, refilled }) {
  let preset = existing?.preset ? presets.find((p) => p.id === existing.preset) : null;
  let settings = preset ? presetSettings(preset, errors) : null;
  const box = h("div");
  const show = () => {
    box.replaceChildren(presetSummary(preset, settings));
    // A preset calls its service over HTTP: SQS is for custom webhooks.
    c.transport.disabled = Boolean(preset);
  };
  const picker = select(["", ...presets.map((p) => p.id)], Object.fromEntries([["", "Custom webhook"], ...presets.map((p) => [p.id, p.name])]));
  // A saved rule keeps its preset: shown, not changeable.
  picker.value = preset?.id ?? "";
  picker.disabled = Boolean(existing);
  // The rule as the form was last filled, to tell what the user has changed since.
  let baseline = null;
  // Another preset keeps what the user changed that it does not set; what it sets replaces theirs after asking.
  picker.addEventListener("change", () => {
    const next = presets.find((p) => p.id === picker.value) ?? null;
    const current = ruleOf(c, settings);
    const edited = changedFields(baseline, current);
    const replaced = edited.filter((key) => presetSets(preset, key) || presetSets(next, key));
    if (replaced.length && !confirm(replaceQuestion(next, replaced))) {
      picker.value = preset?.id ?? "";
      return;
    }
    preset = next;
    settings = preset ? presetSettings(preset, errors) : null;
    settings?.set({});
    const fresh = { ...NEW_RULE, ...(preset?.webhook ?? {}), name: preset?.name ?? "" };
    fill(c, fresh);
    baseline = ruleOf(c, settings);
    fill(c, { ...fresh, ...Object.fromEntries(edited.filter((key) => !replaced.includes(key)).map((key) => [key, current[key]])) });
    show();
    refilled();
  });
  return {
    picker,
    box,
    preset: () => preset,
    settings: () => settings,
    start(config) {
      settings?.set(config);
      baseline = ruleOf(c, settings);
      show();
    },
  };
}

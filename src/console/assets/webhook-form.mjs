// The webhook form's page: create a rule (custom or from a preset) or edit one, beside a live preview of the
// exact request it sends. Its parts: the controls and the rule they describe (webhook-controls.mjs), the
// sections that lay them out (webhook-sections.mjs), the preset picker (preset-picker.mjs), the buttons
// (webhook-save.mjs) and the notices atop a saved rule (webhook-notices.mjs).

import { api } from "./api.mjs";
import { h } from "./dom.mjs";
import { FieldErrors } from "./fields.mjs";
import { presetPicker } from "./preset-picker.mjs";
import { previewEvents } from "./preview-events.mjs";
import { livePreview } from "./preview.mjs";
import { recoverPanel } from "./recover.mjs";
import { replayPanel } from "./replay.mjs";
import { fill, isSqs, NEW_RULE, ruleOf, webhookControls } from "./webhook-controls.mjs";
import { createdNotice, offNotice } from "./webhook-notices.mjs";
import { formActions } from "./webhook-save.mjs";
import { followChoices, formSections, requestParts, showChosen } from "./webhook-sections.mjs";

/** What the draft needs before the gateway can preview it: a URL, and a preset's required settings. */
function missingForPreview(c, preset, settings) {
  if (!c.url.value.trim()) return `Enter the ${isSqs(c) ? "queue URL" : "URL"} to see the request this rule sends.`;
  const given = settings?.read() ?? {};
  const needed = Object.entries(preset?.config ?? {}).filter(([name, field]) => field.required && given[name] === undefined);
  return needed.length ? `Fill in ${needed.map(([, field]) => field.label).join(", ")} to see the request this rule sends.` : null;
}

export async function showWebhookForm(view, id) {
  // `?event=evt_...` (a delivery's or an event's "Preview with this event"): the preview opens on that event.
  const linked = view.query.get("event");
  const [presets, sources, events, existing] = await Promise.all([
    api("GET", "/api/presets").then((r) => r.data),
    api("GET", "/api/sources?limit=200").then((r) => r.data),
    previewEvents(linked),
    id ? api("GET", `/api/webhooks/${encodeURIComponent(id)}`) : null,
  ]);
  const errors = new FieldErrors();
  const c = webhookControls(errors, sources, events.samples[0]?.event ?? {});
  const presetChoice = presetPicker({ presets, existing, c, errors, refilled: () => showChosen(c, parts, existing) });
  const parts = requestParts(c, errors, existing);
  followChoices(c, parts, existing);

  fill(c, existing ?? NEW_RULE);
  presetChoice.start(existing?.preset_config ?? {});
  showChosen(c, parts, existing);

  // The rule as the API takes it; a secret still shown masked is left out, so the stored one stays.
  const draft = () => {
    const rule = { ...ruleOf(c, presetChoice.settings()), preset: presetChoice.preset()?.id ?? null };
    if (existing && rule.secret === existing.secret) delete rule.secret;
    return rule;
  };
  const missing = () => missingForPreview(c, presetChoice.preset(), presetChoice.settings());
  const preview = livePreview({ rule: draft, missing, events, errors });
  const changed = (event) => {
    errors.touch(event.target);
    preview.refresh();
  };
  const off = offNotice(existing ?? { enabled: true });
  const actions = formActions({ existing, draft, errors, offNotice: off, eventChoice: preview.eventChoice });
  const form = h(
    "form",
    { id: "webhook-form", novalidate: true, oninput: changed, onchange: changed, onsubmit: actions.save },
    ...formSections(c, errors, { presetPicker: presetChoice.picker, settingsBox: presetChoice.box, parts }),
    actions.element,
  );

  const created = createdNotice(existing);
  const recover = existing ? await recoverPanel(existing) : null;
  const replay = existing ? replayPanel(existing) : null;
  view.mount(
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, existing ? `Edit “${existing.name}”` : "New webhook"),
      existing ? h("a", { class: "button", href: `#/deliveries?webhook_id=${existing.id}` }, "Deliveries") : null,
    ),
    created,
    off,
    recover,
    h("div", { class: "editor" }, form, preview.element),
    // Below the editor: a rule needs it after an outage or when made for past calls, not at every edit.
    replay,
  );
  preview.refresh();
  // Opened to preview an event: focus lands on its chooser (in view: the preview is below the form on a narrow screen).
  if (linked) preview.focusEvent();
}

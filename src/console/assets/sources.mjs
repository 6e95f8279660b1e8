// Sources: where PBXs post. Creating one shows its ingest URL and secret, the secret only this once (and so
// does giving it a new secret). Each can be renamed, deactivated, given a new secret or deleted.

import { api, ApiError } from "./api.mjs";
import { badge, h, table, toast, when } from "./dom.mjs";
import { FieldErrors, labelled } from "./fields.mjs";
import { SOURCE_KINDS } from "./vocabulary.mjs";

/** Each kind as its PBX is called (the kind ids alone left "canonical" unexplained). */
const PBX_NAMES = { canonical: "Canonical JSON (a script of your own)", wildix: "Wildix", voipcloud: "VoIPcloud", voipappz: "VoIPAppz" };

/** Where each PBX's secret comes from and how it proves it (README, Sources). */
const SECRET_HINTS = {
  canonical: "Empty: the gateway generates one, shown once. The script sends it as Authorization: Bearer <secret>, or signs each body with it (x-signature).",
  wildix: "Paste the Secret Wildix generated for its Webhook integration: it signs each event with it (x-signature).",
  voipcloud: "Paste the Secret Token typed in VoIPcloud's Global Webhooks (8 characters or more): it sends it with each event (X-Pbx-Token).",
  voipappz: "Empty: the gateway generates one, shown once. VoIPAppz cannot set headers: it goes in each webhook's URL there (?token=<secret>).",
};

/**
 * The list and the form; `after` a change, the secret to show once (`secret: {source, title}`), an action's
 * error (shown as an alert) and the id of the element that takes focus (the heading if that is gone), so
 * that a keyboard user is not dropped at the page's start.
 */
export async function showSources(view, after = {}) {
  const { data } = await api("GET", "/api/sources");
  // A secret on show stays through other actions (it may not be copied yet), until its source is gone.
  const secret = data.some((s) => s.id === after.secret?.source.id) ? after.secret : null;
  const redraw = (next) => showSources(view, { secret, ...next }).catch((error) => toast(error.message));
  // The pressed button keeps focus (its label now says what it does next); a deleted row hands it to the heading.
  const act = (action, s, button) => async () => {
    let next;
    try {
      next = { focus: button, ...(await action(s)) };
    } catch (error) {
      next = { focus: button, error: `${s.name}: ${error.message}` };
    }
    await redraw(next);
  };
  const rows = data.map((s) => sourceRow(s, act, redraw));
  view.mount(
    h("div", { class: "toolbar" }, h("h1", { id: "sources-title", tabindex: "-1" }, "Sources")),
    after.error ? h("p", { class: "panel error", role: "alert", id: "sources-error" }, after.error) : null,
    secret ? secretPanel(secret) : null,
    data.length
      ? table(
          { id: "sources" },
          ["name", "kind", "url", "status", "created", "actions"],
          ["Name", "PBX", "Ingest URL", "Status", "Created", "Actions"],
          rows,
        )
      : h("p", { class: "panel empty" }, "No source yet: create one for each PBX that will post events."),
    newSourceForm(redraw),
  );
  if (after.focus) (document.getElementById(after.focus) ?? document.getElementById("sources-title")).focus();
}

function sourceRow(s, act, redraw) {
  const nameCell = h("td", {}, s.name);
  const renameButton = h("button", { type: "button", id: `rename-${s.id}`, "aria-label": `Rename ${s.name}`, onclick: () => rename(s, nameCell, renameButton, redraw) }, "Rename");
  const secretButton = h("button", { type: "button", id: `rotate-${s.id}`, "aria-label": `New secret for ${s.name}`, onclick: () => giveSecret(s, nameCell, secretButton, redraw) }, "New secret");
  return h(
    "tr",
    { "data-id": s.id },
    nameCell,
    h("td", {}, PBX_NAMES[s.kind] ?? s.kind),
    h("td", { class: "mono" }, s.ingest_url),
    h("td", {}, s.enabled ? badge("active", "on") : badge("inactive", "off")),
    h("td", {}, when(s.created_at)),
    h(
      "td",
      { class: "actions" },
      renameButton,
      h(
        "button",
        { type: "button", id: `toggle-${s.id}`, "aria-label": `${s.enabled ? "Deactivate" : "Activate"} ${s.name}`, onclick: act(toggleSource, s, `toggle-${s.id}`) },
        s.enabled ? "Deactivate" : "Activate",
      ),
      secretButton,
      h("button", { type: "button", class: "danger", id: `delete-${s.id}`, "aria-label": `Delete ${s.name}`, onclick: act(deleteSource, s, `delete-${s.id}`) }, "Delete"),
    ),
  );
}

/** Renames in place: the name cell becomes a form with the name in it. */
function rename(source, cell, button, redraw) {
  const input = h("input", { maxlength: 200, required: true, value: source.name });
  cellForm(source, cell, button, redraw, {
    label: `New name for ${source.name}`,
    input,
    path: "name",
    async save() {
      await api("PATCH", `/api/sources/${source.id}`, { name: input.value });
      toast(`${source.name} renamed to ${input.value.trim()}`);
      return { focus: button.id };
    },
  });
  input.select();
}

/**
 * A new secret in place: the one the PBX generated, pasted (Wildix, VoIPcloud), or left empty for the gateway
 * to generate one; then shown once. Saving is the confirmation: Cancel or Escape keeps the old one.
 */
function giveSecret(source, cell, button, redraw) {
  const input = h("input", { class: "mono", autocomplete: "off", spellcheck: "false" });
  cellForm(source, cell, button, redraw, {
    label: `Secret for ${source.name}`,
    hint: `${SECRET_HINTS[source.kind]} What the PBX posts with the old one is refused from then on.`,
    input,
    path: "secret",
    async save() {
      const updated = await api("PATCH", `/api/sources/${source.id}`, { secret: input.value.trim() || newSecret() });
      return { secret: { source: updated, title: `New secret for “${source.name}”` }, focus: "source-secret-panel" };
    },
  });
}

/**
 * The name cell as a small form around `input`: Enter saves (`save()` answers what to redraw with), Escape or
 * Cancel puts the name back; a refusal shows under the input, which keeps focus.
 */
function cellForm(source, cell, button, redraw, { label, hint, input, path, save }) {
  const errors = new FieldErrors();
  const cancel = () => {
    cell.replaceChildren(source.name);
    button.focus();
  };
  const submit = async (event) => {
    event.preventDefault();
    errors.clear("save");
    try {
      await redraw(await save());
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (errors.show(error.details, "save").length || !error.details.length) return redraw({ focus: button.id, error: `${source.name}: ${error.message}` });
      errors.focusFirst();
    }
  };
  cell.replaceChildren(
    h(
      "form",
      { class: "rename", novalidate: true, onsubmit: submit, oninput: (e) => errors.touch(e.target), onkeydown: (e) => e.key === "Escape" && cancel() },
      labelled(label, input, { hint, errors, path }),
      h("button", { type: "submit", class: "primary" }, "Save"),
      " ",
      h("button", { type: "button", onclick: cancel }, "Cancel"),
    ),
  );
  input.focus();
}

/** The form that creates a source; what the API refuses shows under its field, which takes focus. */
function newSourceForm(redraw) {
  const errors = new FieldErrors();
  const name = h("input", { maxlength: 200, required: true });
  const secretHint = h("span", {}, SECRET_HINTS[SOURCE_KINDS[0]]);
  const kind = h(
    "select",
    { onchange: () => (secretHint.textContent = SECRET_HINTS[kind.value]) },
    SOURCE_KINDS.map((k) => h("option", { value: k }, PBX_NAMES[k] ?? k)),
  );
  const secret = h("input", { class: "mono", autocomplete: "off", spellcheck: "false" });
  const formError = h("p", { class: "error", role: "alert", id: "source-form-error" });
  const create = async (event) => {
    event.preventDefault();
    errors.clear("save");
    formError.textContent = "";
    try {
      const source = await api("POST", "/api/sources", { name: name.value, kind: kind.value, ...(secret.value.trim() ? { secret: secret.value.trim() } : {}) });
      await redraw({ secret: { source, title: `Source “${source.name}” created` }, focus: "source-secret-panel" });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const unplaced = errors.show(error.details, "save");
      formError.textContent = unplaced.length || !error.details.length ? error.message : "";
      errors.focusFirst();
    }
  };
  return h(
    "form",
    { class: "panel", id: "source-form", novalidate: true, onsubmit: create, oninput: (e) => errors.touch(e.target), onchange: (e) => errors.touch(e.target) },
    h("h2", {}, "New source"),
    labelled("Name", name, { errors, path: "name" }),
    labelled("PBX", kind, { errors, path: "kind" }),
    labelled("Secret (optional)", secret, {
      hint: secretHint,
      errors,
      path: "secret",
    }),
    h("p", {}, h("button", { class: "primary", type: "submit" }, "Create source")),
    formError,
  );
}

/** The ingest URL and secret, shown once; it takes focus, so that a screen reader reads it out. */
function secretPanel({ source, title }) {
  return h(
    "section",
    { class: "panel notice", id: "source-secret-panel", tabindex: "-1", "aria-labelledby": "source-secret-title" },
    h("h2", { id: "source-secret-title" }, title),
    h("p", {}, "Point the PBX at this URL. The secret is shown only now: copy it into the PBX."),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Ingest URL"),
      h("dd", {}, h("span", { class: "secret" }, source.ingest_url)),
      h("dt", {}, "Secret"),
      h("dd", {}, h("span", { class: "secret", id: "source-secret" }, source.secret)),
    ),
  );
}

async function toggleSource(source) {
  await api("PATCH", `/api/sources/${source.id}`, { enabled: !source.enabled });
  toast(`${source.name} ${source.enabled ? "deactivated" : "activated"}`);
}

/** A fresh secret like the ones the gateway generates (`sk_` and 32 random bytes, URL-safe base64). */
function newSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `sk_${btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
}

async function deleteSource(source) {
  if (!confirm(`Delete the source “${source.name}”? What its PBX posts is refused from then on; its events stay.`)) return;
  await api("DELETE", `/api/sources/${source.id}`);
  toast(`${source.name} deleted`);
  return { focus: "sources-title" };
}

// Sources: where PBXs post. Creating one shows its ingest URL and secret, the secret only this once.

import { api, ApiError } from "./api.mjs";
import { badge, h, table, toast, when } from "./dom.mjs";
import { FieldErrors, labelled } from "./fields.mjs";
import { SOURCE_KINDS } from "./vocabulary.mjs";

/** The list and the form; `after` creating a source, the secret to show once (`secret: {source, title}`), which takes focus. */
export async function showSources(view, after = {}) {
  const { data } = await api("GET", "/api/sources");
  const redraw = (next) => showSources(view, next).catch((error) => toast(error.message));
  const rows = data.map((s) =>
    h(
      "tr",
      { "data-id": s.id },
      h("td", {}, s.name),
      h("td", {}, s.kind),
      h("td", { class: "mono" }, s.ingest_url),
      h("td", {}, s.enabled ? badge("active", "on") : badge("inactive", "off")),
      h("td", {}, when(s.created_at)),
    ),
  );
  view.mount(
    h("div", { class: "toolbar" }, h("h1", {}, "Sources")),
    after.secret ? secretPanel(after.secret) : null,
    data.length
      ? table({ id: "sources" }, ["name", "kind", "url", "status", "created"], ["Name", "PBX", "Ingest URL", "Status", "Created"], rows)
      : h("p", { class: "panel empty" }, "No source yet: create one for each PBX that will post events."),
    newSourceForm(redraw),
  );
  if (after.focus) document.getElementById(after.focus)?.focus();
}

/** The form that creates a source; what the API refuses shows under its field, which takes focus. */
function newSourceForm(redraw) {
  const errors = new FieldErrors();
  const name = h("input", { maxlength: 200, required: true });
  const kind = h("select", {}, SOURCE_KINDS.map((k) => h("option", { value: k }, k)));
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
      hint: "Wildix and VoIP Cloud show a secret of their own: paste it here. Empty: the gateway generates one, shown once.",
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

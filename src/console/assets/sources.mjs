// Sources: where PBXs post. Creating one shows its ingest URL and secret, the secret only this once.

import { api } from "./api.mjs";
import { badge, h, table, toast, when } from "./dom.mjs";
import { SOURCE_KINDS } from "./vocabulary.mjs";

export async function showSources(view, created = null) {
  const { data } = await api("GET", "/api/sources");
  const name = h("input", { id: "source-name", required: true, maxlength: 200 });
  const kind = h("select", { id: "source-kind" }, SOURCE_KINDS.map((k) => h("option", { value: k }, k)));
  const form = h(
    "form",
    { class: "panel", onsubmit: (e) => createSource(e, view, name.value, kind.value) },
    h("h2", {}, "New source"),
    h("label", { for: "source-name" }, "Name"),
    name,
    h("label", { for: "source-kind" }, "PBX"),
    kind,
    h("p", {}, h("button", { class: "primary", type: "submit" }, "Create source")),
  );
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
    created && createdPanel(created),
    data.length
      ? table({ id: "sources" }, ["name", "kind", "url", "status", "created"], ["Name", "PBX", "Ingest URL", "Status", "Created"], rows)
      : h("p", { class: "panel empty" }, "No source yet: create one for each PBX that will post events."),
    form,
  );
}

function createdPanel(source) {
  return h(
    "div",
    { class: "panel notice", id: "source-created" },
    h("h2", {}, `Source “${source.name}” created`),
    h("p", {}, "Point the PBX at this URL. The secret is shown only now: copy it into the PBX."),
    h("label", {}, "Ingest URL"),
    h("div", { class: "secret" }, source.ingest_url),
    h("label", {}, "Secret"),
    h("div", { class: "secret", id: "source-secret" }, source.secret),
  );
}

async function createSource(event, view, name, kind) {
  event.preventDefault();
  try {
    const source = await api("POST", "/api/sources", { name, kind });
    await showSources(view, source);
  } catch (error) {
    toast(error.message);
  }
}

// The console: plain JavaScript served by the gateway itself (no build step, no external request).
// Every page is built with `h()` from text, never from HTML strings, so nothing a PBX or a user typed
// can run as markup.

const TOKEN_KEY = "gateway-admin-token";
const main = document.getElementById("main");

/** An element with attributes (`on*` ones as listeners) and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  setTimeout(() => (box.textContent === message ? (box.textContent = "") : null), 4000);
}

/** The admin API; a 401 signs out. Errors carry the API's `{error: {code, message, details}}`. */
async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401) {
    signOut("The admin token is not valid (any more). Sign in again.");
    throw new Error("unauthorized");
  }
  if (!response.ok) throw Object.assign(new Error(data?.error?.message ?? `HTTP ${response.status}`), { api: data?.error });
  return data;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

// ---------- sign in ----------

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById("nav").hidden = true;
  showSignIn(message);
}

function showSignIn(message) {
  const input = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert" }, message ?? "");
  const form = h(
    "form",
    { class: "panel signin", onsubmit: (e) => signIn(e, input.value.trim(), error) },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "The admin token was printed when the gateway first started (or is your ADMIN_TOKEN)."),
    h("label", { for: "token" }, "Admin token"),
    input,
    error,
    h("button", { class: "primary", type: "submit" }, "Sign in"),
  );
  main.replaceChildren(form);
  input.focus();
}

async function signIn(event, token, error) {
  event.preventDefault();
  const response = await fetch("/api/presets", { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) {
    error.textContent = "That token is not valid.";
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  document.getElementById("nav").hidden = false;
  if (!location.hash || location.hash === "#/") location.hash = "#/webhooks";
  else route();
}

// ---------- sources ----------

async function showSources() {
  const { data } = await api("GET", "/api/sources");
  const created = h("div");
  const name = h("input", { id: "source-name", required: true, maxlength: 200 });
  const kind = h("select", { id: "source-kind" }, ["canonical", "wildix", "voipcloud", "voipappz"].map((k) => h("option", { value: k }, k)));
  const form = h(
    "form",
    { class: "panel", onsubmit: (e) => createSource(e, name.value, kind.value, created) },
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
      {},
      h("td", {}, s.name),
      h("td", {}, s.kind),
      h("td", { class: "url" }, s.ingest_url),
      h("td", {}, h("span", { class: `badge ${s.enabled ? "on" : "off"}` }, s.enabled ? "active" : "inactive")),
      h("td", {}, when(s.created_at)),
    ),
  );
  main.replaceChildren(
    h("div", { class: "toolbar" }, h("h1", {}, "Sources")),
    created,
    data.length
      ? h("table", {}, h("thead", {}, h("tr", {}, ["Name", "PBX", "Ingest URL", "Status", "Created"].map((t) => h("th", {}, t)))), h("tbody", {}, rows))
      : h("p", { class: "panel empty" }, "No source yet: create one for each PBX that will post events."),
    form,
  );
}

async function createSource(event, name, kind, created) {
  event.preventDefault();
  try {
    const source = await api("POST", "/api/sources", { name, kind });
    await showSources();
    main.querySelector("div").after(
      h(
        "div",
        { class: "panel", id: "source-created" },
        h("h2", {}, `Source “${source.name}” created`),
        h("p", {}, "Point the PBX at this URL. The secret is shown only now: copy it into the PBX."),
        h("label", {}, "Ingest URL"),
        h("div", { class: "secret" }, source.ingest_url),
        h("label", {}, "Secret"),
        h("div", { class: "secret", id: "source-secret" }, source.secret),
      ),
    );
  } catch (error) {
    toast(error.message);
  }
}

// ---------- webhooks ----------

async function showWebhooks() {
  const { data } = await api("GET", "/api/webhooks");
  const rows = data.map((w) =>
    h(
      "tr",
      { "data-id": w.id },
      h("td", {}, when(w.created_at)),
      h("td", {}, h("span", { class: `badge ${w.enabled ? "on" : "off"}` }, w.enabled ? "active" : "inactive")),
      h("td", {}, w.name, w.preset ? h("div", { class: "muted" }, `preset: ${w.preset}`) : null),
      h("td", { class: "url" }, w.url),
      h("td", {}, w.method),
      h("td", {}, w.events.join(", ")),
      h(
        "td",
        { class: "actions" },
        h("button", { type: "button", onclick: () => toggleWebhook(w) }, w.enabled ? "Deactivate" : "Activate"),
        h("button", { type: "button", class: "danger", onclick: () => deleteWebhook(w) }, "Delete"),
      ),
    ),
  );
  main.replaceChildren(
    h("div", { class: "toolbar" }, h("h1", {}, "Webhooks")),
    data.length
      ? h(
          "table",
          { id: "webhooks" },
          h("colgroup", {}, ["created", "status", "name", "url", "method", "events", "actions"].map((name) => h("col", { class: `col-${name}` }))),
          h("thead", {}, h("tr", {}, ["Created", "Status", "Name", "URL", "Method", "Events", ""].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows),
        )
      : h("p", { class: "panel empty" }, "No webhook yet."),
  );
}

async function toggleWebhook(webhook) {
  await api("PATCH", `/api/webhooks/${webhook.id}`, { enabled: !webhook.enabled });
  toast(`${webhook.name} ${webhook.enabled ? "deactivated" : "activated"}`);
  await showWebhooks();
}

async function deleteWebhook(webhook) {
  if (!confirm(`Delete the webhook “${webhook.name}”? Its pending deliveries will be failed.`)) return;
  await api("DELETE", `/api/webhooks/${webhook.id}`);
  toast(`${webhook.name} deleted`);
  await showWebhooks();
}

// ---------- routing ----------

const ROUTES = { "#/webhooks": showWebhooks, "#/sources": showSources };

async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return showSignIn();
  document.getElementById("nav").hidden = false;
  const show = ROUTES[location.hash] ?? showWebhooks;
  for (const link of document.querySelectorAll("#nav a")) link.toggleAttribute("aria-current", link.getAttribute("href") === location.hash);
  try {
    await show();
  } catch (error) {
    if (error.message !== "unauthorized") main.replaceChildren(h("p", { class: "panel error" }, error.message));
  }
}

document.getElementById("sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", route);
route();

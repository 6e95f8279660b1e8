// The console's shell: sign-in, navigation and the hash routes of every page. Plain JavaScript modules
// served by the gateway itself (no build step, no external request).

import { ApiError, session, tokenRefusal } from "./api.mjs";
import { showDeliveries, showDelivery } from "./deliveries.mjs";
import { h } from "./dom.mjs";
import { showEvent, showEvents } from "./events.mjs";
import { showSources } from "./sources.mjs";
import { showWebhookForm } from "./webhook-form.mjs";
import { showWebhooks } from "./webhooks.mjs";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

/** `#/path/segments?query` -> the page that shows it, with its `:id` and query; the first match wins. */
const ROUTES = [
  ["webhooks", showWebhooks],
  ["webhooks/new", (view) => showWebhookForm(view, null)],
  ["webhooks/:id", (view) => showWebhookForm(view, view.id)],
  ["sources", showSources],
  ["deliveries", showDeliveries],
  ["deliveries/:id", showDelivery],
  ["events", showEvents],
  ["events/:id", showEvent],
];

function pageFor(path) {
  const segments = path.split("/").filter(Boolean);
  for (const [pattern, show] of ROUTES) {
    const parts = pattern.split("/");
    if (parts.length !== segments.length) continue;
    if (parts.every((part, i) => part === segments[i] || part === ":id")) {
      return { show, id: parts.at(-1) === ":id" ? decodeURIComponent(segments.at(-1)) : null, section: parts[0] };
    }
  }
  return { show: showWebhooks, id: null, section: "webhooks" };
}

let navigation = 0;

/** What a page gets: its id and query, and `mount`, which ignores a page the user has already left. */
function viewFor(id, query) {
  const number = ++navigation;
  const isCurrent = () => number === navigation;
  return {
    id,
    query,
    isCurrent,
    mount(...nodes) {
      if (isCurrent()) main.replaceChildren(...nodes.filter(Boolean));
    },
  };
}

async function route() {
  if (!session.token()) return showSignIn();
  nav.hidden = false;
  const [path, search = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const { show, id, section } = pageFor(path);
  for (const link of nav.querySelectorAll("a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#/${section}`);
  }
  const view = viewFor(id, new URLSearchParams(search));
  try {
    await show(view);
    if (view.isCurrent()) titleFrom(main.querySelector("h1")?.textContent);
    // Keyboard and screen-reader users land on the new page, not on the link they followed.
    if (view.isCurrent() && !main.contains(document.activeElement)) {
      main.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) view.mount(h("p", { class: "panel error", role: "alert" }, error.message));
  }
}

/** The tab's title names the page, so that tabs, history and screen readers tell pages apart. */
function titleFrom(heading) {
  document.title = heading ? `${heading} · Call-event gateway` : "Call-event gateway";
}

function signOut(message) {
  session.clear();
  nav.hidden = true;
  showSignIn(message);
}

function showSignIn(message) {
  navigation += 1;
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
  titleFrom("Sign in");
  input.focus();
}

async function signIn(event, token, error) {
  event.preventDefault();
  const refusal = await tokenRefusal(token);
  if (refusal) {
    error.textContent = refusal;
    return;
  }
  session.save(token);
  if (!location.hash || location.hash === "#/") location.hash = "#/webhooks";
  else route();
}

session.onUnauthorized(signOut);
document.getElementById("sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", route);
route();

// The webhooks table: created, status, name, URL, method, events, and what can be done to each.

import { api } from "./api.mjs";
import { badge, h, table, toast, when } from "./dom.mjs";

const METHOD_NAMES = { POST_JSON: "POST JSON" };
/** Who turned an inactive rule off, beside its badge (its edit page says when, and which delivery). */
const OFF_BY = { manual: "by hand", gone: "410 Gone" };

/** The URL with a preset's settings put in (`{{{config.instance_url}}}/…` → the instance's address). */
function urlOf(webhook) {
  const config = webhook.preset_config ?? {};
  return webhook.url.replace(/\{\{\{?\s*config\.(\w+)\s*\}?\}\}/g, (placeholder, name) => (typeof config[name] === "string" ? config[name] : placeholder));
}

/**
 * The list; `after` an action, its error (shown as an alert) and the id of the element that takes focus (the
 * heading if that is gone), so that a keyboard user is not dropped at the page's start.
 */
export async function showWebhooks(view, after = {}) {
  const { data } = await api("GET", "/api/webhooks");
  // The pressed button keeps focus (its label now says what it does next); a deleted row hands it to the heading.
  const act = (action, w, button) => async () => {
    let after;
    try {
      after = { focus: (await action(w)) ?? button };
    } catch (error) {
      after = { focus: button, error: `${w.name}: ${error.message}` };
    }
    await showWebhooks(view, after).catch((error) => toast(error.message));
  };
  const rows = data.map((w) =>
    h(
      "tr",
      { "data-id": w.id },
      h("td", {}, when(w.created_at)),
      h("td", {}, w.enabled ? badge("active", "on") : [badge("inactive", "off"), w.disabled ? h("div", { class: "muted small" }, OFF_BY[w.disabled.reason]) : null]),
      h("td", {}, h("a", { href: `#/webhooks/${w.id}` }, w.name), w.preset ? h("div", { class: "muted" }, `preset: ${w.preset}`) : null),
      h("td", { class: "mono" }, urlOf(w)),
      h("td", {}, w.transport === "sqs" ? "SQS" : (METHOD_NAMES[w.method] ?? w.method)),
      h("td", {}, w.events.join(", ")),
      h(
        "td",
        { class: "actions" },
        h("a", { class: "button", href: `#/webhooks/${w.id}`, "aria-label": `Edit ${w.name}` }, "Edit"),
        h("a", { class: "button", href: `#/deliveries?webhook_id=${w.id}`, "aria-label": `Deliveries of ${w.name}` }, "Deliveries"),
        h(
          "button",
          { type: "button", id: `toggle-${w.id}`, "aria-label": `${w.enabled ? "Deactivate" : "Activate"} ${w.name}`, onclick: act(toggleWebhook, w, `toggle-${w.id}`) },
          w.enabled ? "Deactivate" : "Activate",
        ),
        h("button", { type: "button", class: "danger", id: `delete-${w.id}`, "aria-label": `Delete ${w.name}`, onclick: act(deleteWebhook, w, `delete-${w.id}`) }, "Delete"),
      ),
    ),
  );
  view.mount(
    h(
      "div",
      { class: "toolbar" },
      h("h1", { id: "webhooks-title", tabindex: "-1" }, "Webhooks"),
      h("a", { class: "button primary", href: "#/webhooks/new" }, "New webhook"),
    ),
    after.error ? h("p", { class: "panel error", role: "alert", id: "webhooks-error" }, after.error) : null,
    data.length
      ? table(
          { id: "webhooks" },
          ["created", "status", "name", "url", "method", "events", "actions"],
          ["Created", "Status", "Name", "URL", "Method", "Events", "Actions"],
          rows,
        )
      : h("p", { class: "panel empty" }, "No webhook yet: create one to send call events to a CRM or any URL."),
  );
  if (after.focus) (document.getElementById(after.focus) ?? document.getElementById("webhooks-title")).focus();
}

async function toggleWebhook(webhook) {
  await api("PATCH", `/api/webhooks/${webhook.id}`, { enabled: !webhook.enabled });
  toast(`${webhook.name} ${webhook.enabled ? "deactivated" : "activated"}`);
}

async function deleteWebhook(webhook) {
  if (!confirm(`Delete the webhook “${webhook.name}”? Its pending deliveries will be failed.`)) return;
  await api("DELETE", `/api/webhooks/${webhook.id}`);
  toast(`${webhook.name} deleted`);
  return "webhooks-title";
}

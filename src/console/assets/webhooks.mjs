// The webhooks table: created, status, name, URL, method, events, and what can be done to each.

import { api } from "./api.mjs";
import { badge, h, table, toast, when } from "./dom.mjs";

export async function showWebhooks(view) {
  const { data } = await api("GET", "/api/webhooks");
  const reload = () => showWebhooks(view);
  const rows = data.map((w) =>
    h(
      "tr",
      { "data-id": w.id },
      h("td", {}, when(w.created_at)),
      h("td", {}, w.enabled ? badge("active", "on") : badge("inactive", "off")),
      h("td", {}, h("a", { href: `#/webhooks/${w.id}` }, w.name), w.preset ? h("div", { class: "muted" }, `preset: ${w.preset}`) : null),
      h("td", { class: "mono" }, w.url),
      h("td", {}, w.transport === "sqs" ? "SQS" : w.method),
      h("td", {}, w.events.join(", ")),
      h(
        "td",
        { class: "actions" },
        h("a", { class: "button", href: `#/webhooks/${w.id}`, "aria-label": `Edit ${w.name}` }, "Edit"),
        h("a", { class: "button", href: `#/deliveries?webhook_id=${w.id}`, "aria-label": `Deliveries of ${w.name}` }, "Deliveries"),
        h("button", { type: "button", onclick: () => toggleWebhook(w).then(reload) }, w.enabled ? "Deactivate" : "Activate"),
        h("button", { type: "button", class: "danger", onclick: () => deleteWebhook(w).then(reload) }, "Delete"),
      ),
    ),
  );
  view.mount(
    h("div", { class: "toolbar" }, h("h1", {}, "Webhooks"), h("a", { class: "button primary", href: "#/webhooks/new" }, "New webhook")),
    data.length
      ? table(
          { id: "webhooks" },
          ["created", "status", "name", "url", "method", "events", "actions"],
          ["Created", "Status", "Name", "URL", "Method", "Events", "Actions"],
          rows,
        )
      : h("p", { class: "panel empty" }, "No webhook yet: create one to send call events to a CRM or any URL."),
  );
}

async function toggleWebhook(webhook) {
  await api("PATCH", `/api/webhooks/${webhook.id}`, { enabled: !webhook.enabled });
  toast(`${webhook.name} ${webhook.enabled ? "deactivated" : "activated"}`);
}

async function deleteWebhook(webhook) {
  if (!confirm(`Delete the webhook “${webhook.name}”? Its pending deliveries will be failed.`)) return;
  await api("DELETE", `/api/webhooks/${webhook.id}`);
  toast(`${webhook.name} deleted`);
}

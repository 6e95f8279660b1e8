// On a webhook's page, while it has failed deliveries: retry those created since a time, after its receiver's
// outage (POST /api/webhooks/:id/recover, asked again while it says there are more).

import { api } from "./api.mjs";
import { h } from "./dom.mjs";
import { everyPage, sincePanel } from "./since-panel.mjs";

function outcomeText({ retried, render_failed }) {
  const sent = retried === 1 ? "1 failed delivery retried" : `${retried} failed deliveries retried`;
  return render_failed ? `${sent}; ${render_failed} still cannot be rendered: fix the payload, save, and retry again.` : `${sent}.`;
}

/** The panel, or null when the rule has no failed delivery. */
export async function recoverPanel(webhook) {
  const failed = await api("GET", `/api/deliveries?webhook_id=${encodeURIComponent(webhook.id)}&status=failed&limit=1`);
  if (!failed.data.length) return null;
  const path = `/api/webhooks/${encodeURIComponent(webhook.id)}/recover`;
  return sincePanel({
    id: "recover",
    webhook,
    title: "Failed deliveries",
    hint: [
      "Once its receiver takes requests again, send the failed deliveries made since this time once more, each with a fresh retry budget. ",
      h("a", { href: `#/deliveries?webhook_id=${webhook.id}&status=failed` }, "See them"),
    ],
    label: "Made since",
    action: "Retry failed deliveries",
    busy: "Retrying…",
    run: async (since) => outcomeText(await everyPage(path, since, ["retried", "render_failed"])),
  });
}

// On a webhook's page, while it has failed deliveries: retry those created since a time, after its receiver's
// outage (POST /api/webhooks/:id/recover, asked again while it says there are more).

import { api } from "./api.mjs";
import { h, when } from "./dom.mjs";
import { everyPage, sincePanel } from "./since-panel.mjs";

/** The rule's newest failed delivery, or undefined when it has none. */
async function newestFailed(webhook) {
  const failed = await api("GET", `/api/deliveries?webhook_id=${encodeURIComponent(webhook.id)}&status=failed&limit=1`);
  return failed.data[0];
}

/** Why nothing was retried: none failed since the time picked (the newest failed one says how far back to go), or none is left. */
async function noneRetried(webhook) {
  const newest = await newestFailed(webhook);
  return newest
    ? `No failed delivery was made since then: the newest was made ${when(newest.created_at)}. Pick a time before it.`
    : "No failed delivery is left to retry.";
}

/** What to say once the rule's failed deliveries made since the time picked were retried. */
async function outcomeText({ retried, render_failed }, webhook) {
  if (!retried && !render_failed) return noneRetried(webhook);
  const sent = retried === 1 ? "1 failed delivery retried" : `${retried} failed deliveries retried`;
  return render_failed ? `${sent}; ${render_failed} still cannot be rendered: fix the payload, save, and retry again.` : `${sent}.`;
}

/** The panel, or null when the rule has no failed delivery. */
export async function recoverPanel(webhook) {
  if (!(await newestFailed(webhook))) return null;
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
    run: async (since) => outcomeText(await everyPage(path, since, ["retried", "render_failed"]), webhook),
  });
}

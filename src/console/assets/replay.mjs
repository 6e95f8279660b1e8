// On a webhook's page: send it the events received since a time that it takes but has no delivery of, having
// been inactive or made since (POST /api/webhooks/:id/replay-missing, asked again while it says there are more).

import { everyPage, sincePanel } from "./since-panel.mjs";

function outcomeText({ replayed, render_failed }) {
  if (!replayed && !render_failed) return "No missed events: each one it takes has a delivery already.";
  const sent = replayed === 1 ? "1 missed event sent" : `${replayed} missed events sent`;
  return render_failed ? `${sent}; ${render_failed} could not be rendered and were recorded failed: fix the payload, save, and retry them.` : `${sent}.`;
}

/** The panel, on every saved rule's page. */
export function replayPanel(webhook) {
  const path = `/api/webhooks/${encodeURIComponent(webhook.id)}/replay-missing`;
  return sincePanel({
    id: "replay",
    webhook,
    title: "Missed events",
    hint: [
      "Events received since this time that this webhook takes now but has no delivery of (it was inactive, or made since) are sent to it, each once, rendered as it is now. To try one event, send a test event.",
    ],
    label: "Received since",
    action: "Send missed events",
    busy: "Sending…",
    run: async (since) => outcomeText(await everyPage(path, since, ["replayed", "render_failed"])),
  });
}

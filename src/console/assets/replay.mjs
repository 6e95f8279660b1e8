// On a webhook's page: send it the events received since a time that it takes but has no delivery of, having
// been inactive or made since (POST /api/webhooks/:id/replay-missing, asked again while it says there are more).

import { api } from "./api.mjs";
import { h, newId } from "./dom.mjs";
import { defaultSince } from "./recover.mjs";

/** Every page of the replay; what was sent and what could not be rendered, added up. */
async function replayAll(webhook, since) {
  const total = { replayed: 0, render_failed: 0 };
  for (let cursor; ; ) {
    const page = await api("POST", `/api/webhooks/${encodeURIComponent(webhook.id)}/replay-missing`, { since, cursor });
    total.replayed += page.replayed;
    total.render_failed += page.render_failed;
    if (!page.more) return total;
    cursor = page.next_cursor;
  }
}

function outcomeText({ replayed, render_failed }) {
  if (!replayed && !render_failed) return "No missed events: each one it takes has a delivery already.";
  const sent = replayed === 1 ? "1 missed event sent" : `${replayed} missed events sent`;
  return render_failed ? `${sent}; ${render_failed} could not be rendered and were recorded failed: fix the payload, save, and retry them.` : `${sent}.`;
}

/** The panel, on every saved rule's page. */
export function replayPanel(webhook) {
  const inputId = newId("replay-since");
  const since = h("input", { type: "datetime-local", id: inputId, value: defaultSince(webhook), required: true });
  const button = h("button", { type: "submit" }, "Send missed events");
  const outcome = h("p", { role: "status", id: "replay-outcome" });
  const replay = async (event) => {
    event.preventDefault();
    if (!since.value) {
      outcome.textContent = "Pick when to send events from.";
      return;
    }
    button.disabled = true;
    outcome.className = "";
    outcome.textContent = "Sending…";
    try {
      outcome.textContent = outcomeText(await replayAll(webhook, new Date(since.value).toISOString()));
    } catch (error) {
      outcome.className = "error";
      outcome.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  };
  return h(
    "form",
    { class: "panel", id: "replay", "aria-labelledby": "replay-title", onsubmit: replay },
    h("h2", { id: "replay-title" }, "Missed events"),
    h(
      "p",
      { class: "hint" },
      "Events received since this time that this webhook takes now but has no delivery of (it was inactive, or made since) are sent to it, each once, rendered as it is now. To try one event, send a test event.",
    ),
    h("label", { for: inputId }, "Received since"),
    h("div", { class: "recover-row" }, since, button),
    outcome,
  );
}

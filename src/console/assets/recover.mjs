// On a webhook's page, while it has failed deliveries: retry those created since a time, after its receiver's
// outage (POST /api/webhooks/:id/recover, asked again while it says there are more).

import { api } from "./api.mjs";
import { h, newId } from "./dom.mjs";

const DAY_MS = 24 * 3600_000;

/** A time as a `datetime-local` input shows it: local, to the minute. */
function localInputValue(ms) {
  const at = new Date(ms);
  const two = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
}

/**
 * Where the window starts unless changed: a day back from when the rule was turned off (what its disabling
 * failed had been made before it), else a day back from now.
 */
export function defaultSince(webhook) {
  const off = !webhook.enabled && webhook.disabled ? Date.parse(webhook.disabled.at) : Date.now();
  return localInputValue(off - DAY_MS);
}

/** Every page of the recovery; what was retried and what still cannot be rendered, added up. */
async function recoverAll(webhook, since) {
  const total = { retried: 0, render_failed: 0 };
  for (let cursor; ; ) {
    const page = await api("POST", `/api/webhooks/${encodeURIComponent(webhook.id)}/recover`, { since, cursor });
    total.retried += page.retried;
    total.render_failed += page.render_failed;
    if (!page.more) return total;
    cursor = page.next_cursor;
  }
}

function outcomeText({ retried, render_failed }) {
  const sent = retried === 1 ? "1 failed delivery retried" : `${retried} failed deliveries retried`;
  return render_failed ? `${sent}; ${render_failed} still cannot be rendered: fix the payload, save, and retry again.` : `${sent}.`;
}

/** The panel, or null when the rule has no failed delivery. */
export async function recoverPanel(webhook) {
  const failed = await api("GET", `/api/deliveries?webhook_id=${encodeURIComponent(webhook.id)}&status=failed&limit=1`);
  if (!failed.data.length) return null;
  const inputId = newId("recover-since");
  const since = h("input", { type: "datetime-local", id: inputId, value: defaultSince(webhook), required: true });
  const button = h("button", { type: "submit" }, "Retry failed deliveries");
  const outcome = h("p", { role: "status", id: "recover-outcome" });
  const recover = async (event) => {
    event.preventDefault();
    if (!since.value) {
      outcome.textContent = "Pick when to retry from.";
      return;
    }
    button.disabled = true;
    outcome.className = "";
    outcome.textContent = "Retrying…";
    try {
      outcome.textContent = outcomeText(await recoverAll(webhook, new Date(since.value).toISOString()));
    } catch (error) {
      outcome.className = "error";
      outcome.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  };
  return h(
    "form",
    { class: "panel", id: "recover", "aria-labelledby": "recover-title", onsubmit: recover },
    h("h2", { id: "recover-title" }, "Failed deliveries"),
    h(
      "p",
      { class: "hint" },
      "Once its receiver takes requests again, send the failed deliveries made since this time once more, each with a fresh retry budget. ",
      h("a", { href: `#/deliveries?webhook_id=${webhook.id}&status=failed` }, "See them"),
    ),
    h("label", { for: inputId }, "Made since"),
    h("div", { class: "recover-row" }, since, button),
    outcome,
  );
}

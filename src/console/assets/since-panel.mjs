// A rule page's panel that acts on what happened since a time, page after page: Retry failed deliveries
// (recover.mjs) and Send missed events (replay.mjs).

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
function defaultSince(webhook) {
  const off = !webhook.enabled && webhook.disabled ? Date.parse(webhook.disabled.at) : Date.now();
  return localInputValue(off - DAY_MS);
}

/** POSTs `{since, cursor}` to `path` while the answer says there are `more`; the `counts` named, added up. */
export async function everyPage(path, since, counts) {
  const total = Object.fromEntries(counts.map((name) => [name, 0]));
  for (let cursor; ; ) {
    const page = await api("POST", path, { since, cursor });
    for (const name of counts) total[name] += page[name];
    if (!page.more) return total;
    cursor = page.next_cursor;
  }
}

/**
 * The panel: a heading, a hint, a time and a button; `run(sinceIso)` does the work and answers what to say.
 * `id` names the form, its heading (`<id>-title`) and its outcome line (`<id>-outcome`).
 */
export function sincePanel({ id, webhook, title, hint, label, action, busy, run }) {
  const inputId = newId(`${id}-since`);
  const since = h("input", { type: "datetime-local", id: inputId, value: defaultSince(webhook), required: true });
  const button = h("button", { type: "submit" }, action);
  const outcome = h("p", { role: "status", id: `${id}-outcome` });
  const submit = async (event) => {
    event.preventDefault();
    if (!since.value) {
      outcome.textContent = "Pick a time to start from.";
      return;
    }
    button.disabled = true;
    outcome.className = "";
    outcome.textContent = busy;
    try {
      outcome.textContent = await run(new Date(since.value).toISOString());
    } catch (error) {
      outcome.className = "error";
      outcome.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  };
  return h(
    "form",
    { class: "panel", id, "aria-labelledby": `${id}-title`, onsubmit: submit },
    h("h2", { id: `${id}-title` }, title),
    h("p", { class: "hint" }, ...hint),
    h("label", { for: inputId }, label),
    h("div", { class: "recover-row" }, since, button),
    outcome,
  );
}

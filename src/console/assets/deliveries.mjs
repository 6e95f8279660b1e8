// The delivery log: every delivery with its status, each one's attempts, and a retry button.

import { api, ApiError, namesById, queryOf } from "./api.mjs";
import { badge, filteredResults, h, morph, moreButton, table, toast, when } from "./dom.mjs";
import { DELIVERY_STATUSES } from "./vocabulary.mjs";

const STATUS_KIND = { pending: "wait", delivering: "wait", delivered: "good", failed: "bad" };
const REFRESH_MS = 1000;
const MAX_REFRESH_MS = 15_000;
const LIST_REFRESH_MS = 3000;

export function deliveryBadge(status) {
  return badge(status, STATUS_KIND[status]);
}

function lastResult(d) {
  if (d.last_error) return h("span", { class: "error" }, d.last_error);
  return d.last_status_code ? `HTTP ${d.last_status_code}` : "";
}

/** The rule's page with the delivery's event chosen in its preview: what the rule, as it is now, sends for it. */
function previewLink(d, names, attrs = {}) {
  const name = names.get(d.webhook_id) ?? d.webhook_id;
  return h("a", { href: `#/webhooks/${d.webhook_id}${queryOf({ event: d.event_id })}`, "aria-label": `Preview ${name} with this event`, ...attrs }, "Preview with this event");
}

/** The columns a delivery row may show: the header, the cell's content and its class, by the `col-*` name that sizes it. */
const COLUMNS = {
  created: ["Created", (d) => h("a", { href: `#/deliveries/${d.id}` }, when(d.created_at))],
  webhook: ["Webhook", (d, names) => h("a", { href: `#/webhooks/${d.webhook_id}` }, names.get(d.webhook_id) ?? d.webhook_id)],
  event: ["Event", (d) => h("a", { href: `#/events/${d.event_id}` }, d.event_id), "mono"],
  status: ["Status", (d) => deliveryBadge(d.status)],
  attempts: ["Attempts", (d) => `${d.attempt_count} / ${d.max_attempts}`],
  result: ["Last result", lastResult],
  preview: ["Preview", previewLink],
};
const LOG_COLUMNS = ["created", "webhook", "event", "status", "attempts", "result"];

function deliveryRow(d, names, columns = LOG_COLUMNS) {
  return h("tr", { "data-id": d.id }, columns.map((name) => h("td", { class: COLUMNS[name][2] }, COLUMNS[name][1](d, names))));
}

/** A table of deliveries, a row each with `columns` (the log's by default); `names` are the webhooks' by id. */
export function deliveriesTable(attrs, deliveries, names, columns = LOG_COLUMNS) {
  return table(
    attrs,
    columns,
    columns.map((name) => COLUMNS[name][0]),
    deliveries.map((d) => deliveryRow(d, names, columns)),
  );
}

function filterBar(filter, names, choose) {
  const webhook = h(
    "select",
    { id: "filter-webhook", onchange: (e) => choose("webhook_id", e.target.value) },
    h("option", { value: "" }, "All webhooks"),
    [...names].map(([id, name]) => h("option", { value: id, selected: filter.webhook_id === id }, name)),
  );
  const status = h(
    "select",
    { id: "filter-status", onchange: (e) => choose("status", e.target.value) },
    h("option", { value: "" }, "Any status"),
    DELIVERY_STATUSES.map((s) => h("option", { value: s, selected: filter.status === s }, s)),
  );
  return h(
    "div",
    { class: "filters" },
    h("label", { for: "filter-webhook" }, "Webhook"),
    webhook,
    h("label", { for: "filter-status" }, "Status"),
    status,
  );
}

const isUnfinished = (d) => d.status === "pending" || d.status === "delivering";

/**
 * Keeps a list's rows current while any is unfinished: every few seconds the list is read again (as many rows
 * as shown, and room for newer ones) and only the rows that changed are redrawn, in place, so that focus,
 * a selection and the scroll stay. New deliveries are not added (rows would move under the reader). It stops
 * once none is unfinished, or when the table is gone (another filter) or the page is left.
 */
function followUnfinished(list, filter, names, view) {
  const query = { ...filter }; // the page's filter object follows the next choice; this list keeps its own
  const shown = new Map(); // id -> the delivery as its row shows it
  let timer = null;
  // A failed read (the gateway restarting, say) is tried again at the next tick.
  const tick = () => refresh().catch(() => {}).then(schedule);
  const schedule = () => {
    if (timer === null && [...shown.values()].some(isUnfinished)) timer = setTimeout(tick, LIST_REFRESH_MS);
  };
  async function refresh() {
    timer = null;
    if (!view.isCurrent() || !list.isConnected) return shown.clear();
    const limit = Math.min(shown.size + 50, 200);
    const fresh = new Map((await api("GET", `/api/deliveries${queryOf({ ...query, limit })}`)).data.map((d) => [d.id, d]));
    // One the list no longer returns (it left a status filter, or newer ones pushed it out) is read alone.
    for (const [id, old] of shown) if (!fresh.has(id) && isUnfinished(old)) fresh.set(id, await deliveryAlone(id));
    if (!view.isCurrent() || !list.isConnected) return shown.clear();
    for (const [id, d] of fresh) {
      if (!shown.has(id)) continue;
      if (d === null) shown.delete(id);
      else if (JSON.stringify(d) !== JSON.stringify(shown.get(id))) {
        morph(list.querySelector(`tr[data-id="${CSS.escape(id)}"]`), deliveryRow(d, names));
        shown.set(id, d);
      }
    }
  }
  return {
    /** Notes rows just drawn. */
    add(deliveries) {
      for (const d of deliveries) shown.set(d.id, d);
      schedule();
    },
  };
}

/** A delivery as a list row has it (without its attempts), or null once it is gone. */
async function deliveryAlone(id) {
  try {
    const { attempts, ...delivery } = await api("GET", `/api/deliveries/${encodeURIComponent(id)}`);
    return delivery;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** The deliveries the filter picks: a table with "Load more", or a line saying there are none. */
async function deliveryList(filter, names, view) {
  const page = await api("GET", `/api/deliveries${queryOf(filter)}`);
  const list = deliveriesTable({ id: "deliveries" }, page.data, names);
  const follow = followUnfinished(list, filter, names, view);
  follow.add(page.data);
  const more = moreButton(page.next_cursor, async (cursor) => {
    const next = await api("GET", `/api/deliveries${queryOf({ ...filter, cursor })}`);
    list.tBodies[0].append(...next.data.map((d) => deliveryRow(d, names)));
    follow.add(next.data);
    return next.next_cursor;
  });
  const nodes = [page.data.length ? list : h("p", { class: "panel empty" }, "No delivery matches."), more];
  return { nodes, shown: page.data.length, more: Boolean(page.next_cursor) };
}

export async function showDeliveries(view) {
  const filter = { webhook_id: view.query.get("webhook_id") ?? "", status: view.query.get("status") ?? "" };
  const names = await namesById("/api/webhooks");
  const { results, status, show, choose } = filteredResults(filter, {
    address: (f) => `#/deliveries${queryOf(f)}`,
    load: (f) => deliveryList(f, names, view),
    count: (shown, more) => `${shown}${more ? "+" : ""} ${shown === 1 && !more ? "delivery" : "deliveries"}`,
  });
  await show();
  view.mount(h("div", { class: "toolbar" }, h("h1", {}, "Deliveries")), filterBar(filter, names, choose), status, results);
}

/**
 * An SQS message: the queue, the message's parameters and attributes, the body. A preview shows an attempt's
 * attributes; a stored delivery gets them anew on each attempt.
 */
function messageBlock(message, id) {
  const { message_attributes: attributes, message_group_id: group, message_deduplication_id: dedup } = message.sqs;
  const facts = [["MessageGroupId", group], ["MessageDeduplicationId", dedup]].filter(([, value]) => value);
  return h(
    "div",
    { class: "request", id },
    h("p", { class: "mono request-line" }, h("strong", {}, "SQS SendMessage"), " ", message.url),
    facts.length ? h("dl", { class: "facts" }, facts.map(([name, value]) => [h("dt", {}, name), h("dd", { class: "mono" }, value)])) : null,
    attributes
      ? table(
          { class: "headers" },
          ["header", "value"],
          ["Message attribute", "Value"],
          Object.entries(attributes).map(([name, value]) => h("tr", {}, h("td", { class: "mono" }, name), h("td", { class: "mono" }, value))),
        )
      : h("p", { class: "muted" }, "Each attempt adds the attributes webhook-id and X-SIGNATURE (and webhook-timestamp for standard signing)."),
    h("pre", { class: "body" }, message.body),
  );
}

/** The request as it was (or will be) sent: method and URL, headers, body. */
export function requestBlock(request, id) {
  if (!request) return h("p", { class: "muted" }, "Not rendered: the rule could not be rendered for this event (see the error).");
  if (request.sqs) return messageBlock(request, id);
  return h(
    "div",
    { class: "request", id },
    h("p", { class: "mono request-line" }, h("strong", {}, request.method), " ", request.url),
    table(
      { class: "headers" },
      ["header", "value"],
      ["Header", "Value"],
      Object.entries(request.headers).map(([name, value]) => h("tr", {}, h("td", { class: "mono" }, name), h("td", { class: "mono" }, value))),
    ),
    request.body === null ? h("p", { class: "muted" }, "No body.") : h("pre", { class: "body" }, request.body),
  );
}

function attemptRow(a) {
  return h(
    "tr",
    {},
    h("td", {}, String(a.number)),
    h("td", {}, when(a.started_at)),
    h("td", {}, `${a.duration_ms} ms`),
    h("td", {}, a.status_code ? badge(String(a.status_code), a.status_code < 300 ? "good" : "bad") : "—"),
    h(
      "td",
      {},
      a.error ? h("p", { class: "error" }, a.error) : null,
      a.response_body ? h("pre", { class: "excerpt" }, a.response_body) : null,
      a.note ? h("p", { class: "muted" }, a.note) : null,
    ),
  );
}

/**
 * How soon to look again: each second while it is being sent, less often the longer the wait for its next
 * attempt (measured on the gateway's clock, from when it was parked: this browser's clock may differ).
 */
function refreshDelay(d) {
  if (d.status === "delivering") return REFRESH_MS;
  const wait = Date.parse(d.next_attempt_at) - Date.parse(d.updated_at);
  return Math.min(Math.max(wait / 10, REFRESH_MS), MAX_REFRESH_MS);
}

/** Whether "Retry now" may be pressed: any time but while the delivery is being sent (the API refuses then). */
const canRetry = (d) => d.status !== "delivering";

function deliveryPage(d, names, retry) {
  const finished = d.status === "delivered" || d.status === "failed";
  const facts = [
    ["Webhook", h("a", { href: `#/webhooks/${d.webhook_id}` }, names.get(d.webhook_id) ?? d.webhook_id)],
    ["Event", h("a", { class: "mono", href: `#/events/${d.event_id}` }, d.event_id)],
    ["Created", when(d.created_at)],
    ["Attempts", `${d.attempt_count} of at most ${d.max_attempts}`],
    d.next_attempt_at && ["Next attempt", when(d.next_attempt_at)],
    d.delivered_at && ["Delivered", when(d.delivered_at)],
    d.last_error && ["Last error", h("span", { class: "error" }, d.last_error)],
  ].filter(Boolean);
  return h(
    "div",
    { class: "delivery" },
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, "Delivery ", h("span", { class: "mono" }, d.id), " ", deliveryBadge(d.status)),
      // Disabled by aria-disabled, not disabled: a focused button stays focused while the delivery is sent.
      h("button", { type: "button", class: "primary", "aria-disabled": !canRetry(d) && "true", onclick: retry }, d.status === "delivered" ? "Send again" : "Retry now"),
      finished ? null : h("span", { class: "muted" }, "Refreshing while it runs…"),
    ),
    h("dl", { class: "panel facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Request"),
      h("p", { class: "hint" }, "As rendered when the event arrived. Each attempt adds webhook-id, the signature headers and a preset's credentials (a Salesforce token, say), as the preview shows them."),
      requestBlock(d.request, "delivery-request"),
      h("p", {}, previewLink(d, names, { id: "preview-with-event" }), h("span", { class: "muted" }, ": what the webhook, as it is now, would send for this event.")),
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Attempts"),
      d.attempts.length
        ? table({ id: "attempts" }, ["number", "time", "duration", "code", "response"], ["#", "Started", "Took", "Status", "Response"], d.attempts.map(attemptRow))
        : h("p", { class: "muted" }, "No attempt yet."),
    ),
  );
}

/**
 * One delivery, looked at again while it is unfinished. Only what changed is redrawn, in place, so focus and
 * a text selection survive the refresh.
 */
export async function showDelivery(view) {
  const path = `/api/deliveries/${encodeURIComponent(view.id)}`;
  const [first, names] = await Promise.all([api("GET", path), namesById("/api/webhooks")]);
  let shown = JSON.stringify(first);
  let timer = null;
  const retry = async (e) => {
    if (e.currentTarget.getAttribute("aria-disabled") === "true") return;
    try {
      await api("POST", `${path}/retry`);
      toast("Retry queued");
      await refresh();
    } catch (error) {
      toast(error.message);
    }
  };
  const page = deliveryPage(first, names, retry);
  const schedule = (d) => {
    clearTimeout(timer);
    const unfinished = d.status === "pending" || d.status === "delivering";
    if (unfinished) timer = setTimeout(() => view.isCurrent() && refresh().catch(() => schedule(d)), refreshDelay(d));
  };
  const refresh = async () => {
    const d = await api("GET", path);
    if (!view.isCurrent()) return;
    if (JSON.stringify(d) !== shown) morph(page, deliveryPage(d, names, retry));
    shown = JSON.stringify(d);
    schedule(d);
  };
  view.mount(page);
  schedule(first);
}

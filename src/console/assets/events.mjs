// Events as received: the list, and each event's canonical form beside the payload the PBX posted.

import { api, namesById, queryOf } from "./api.mjs";
import { deliveriesTable } from "./deliveries.mjs";
import { filteredResults, h, moreButton, pretty, table, when } from "./dom.mjs";
import { EVENT_TYPES } from "./vocabulary.mjs";

function eventRow(e, names) {
  return h(
    "tr",
    { "data-id": e.event_id },
    h("td", {}, h("a", { href: `#/events/${e.event_id}` }, when(e.received_at))),
    h("td", {}, e.type),
    h("td", {}, names.get(e.source_id) ?? e.source_id, h("div", { class: "muted" }, e.source)),
    h("td", {}, e.direction ?? ""),
    h("td", { class: "mono" }, [e.src, e.dst].filter(Boolean).join(" → ")),
    h("td", {}, e.status ?? ""),
  );
}

/** What the list says when nothing matches: the call searched for, else the type, else that none came yet. */
function emptyText(filter) {
  if (filter.uniqueid) return `No event of the call ${filter.uniqueid}${filter.type ? ` of type ${filter.type}` : ""}${filter.source_id ? " from this source" : ""}.`;
  if (filter.type && !filter.source_id) return "No event of this type.";
  if (filter.type || filter.source_id) return "No event matches.";
  return "No event yet: events appear here as your PBX posts them.";
}

/** The events the filter picks: a table with "Load more", or a line saying there are none. */
async function eventList(filter, names) {
  const page = await api("GET", `/api/events${queryOf(filter)}`);
  const list = table(
    { id: "events" },
    ["received", "type", "source", "direction", "parties", "call-status"],
    ["Received", "Type", "Source", "Direction", "From → to", "Status"],
    page.data.map((e) => eventRow(e, names)),
  );
  const more = moreButton(page.next_cursor, async (cursor) => {
    const next = await api("GET", `/api/events${queryOf({ ...filter, cursor })}`);
    list.tBodies[0].append(...next.data.map((e) => eventRow(e, names)));
    return next.next_cursor;
  });
  return { nodes: [page.data.length ? list : h("p", { class: "panel empty" }, emptyText(filter)), more], shown: page.data.length, more: Boolean(page.next_cursor) };
}

/**
 * The filters: type and source as drop-downs, and the call's id (its uniqueid, as the PBX and the CRM know it),
 * applied when typed and Enter pressed (or focus leaves), so that one call's whole story is one search away.
 */
function filterBar(filter, names, choose) {
  const search = (value) => value.trim() !== filter.uniqueid && choose("uniqueid", value.trim());
  const type = h(
    "select",
    { id: "filter-type", onchange: (e) => choose("type", e.target.value) },
    h("option", { value: "" }, "All types"),
    [...EVENT_TYPES, "unmapped"].map((t) => h("option", { value: t, selected: filter.type === t }, t)),
  );
  const source = h(
    "select",
    { id: "filter-source", onchange: (e) => choose("source_id", e.target.value) },
    h("option", { value: "" }, "All sources"),
    [...names].map(([id, name]) => h("option", { value: id, selected: filter.source_id === id }, name)),
  );
  const call = h("input", {
    id: "filter-uniqueid",
    type: "search",
    class: "mono",
    spellcheck: "false",
    value: filter.uniqueid,
    "aria-describedby": "filter-uniqueid-hint",
    onchange: (e) => search(e.target.value),
    // Emptied (its clear button, say): every call again, without waiting for Enter.
    oninput: (e) => e.target.value === "" && search(""),
  });
  return h(
    "div",
    { class: "filters" },
    h("label", { for: "filter-type" }, "Type"),
    type,
    h("label", { for: "filter-source" }, "Source"),
    source,
    h("label", { for: "filter-uniqueid" }, "Call id"),
    call,
    h("span", { class: "hint", id: "filter-uniqueid-hint" }, "the uniqueid the PBX gave the call; Enter to search"),
  );
}

export async function showEvents(view) {
  const filter = Object.fromEntries(["type", "source_id", "uniqueid"].map((name) => [name, view.query.get(name) ?? ""]));
  const names = await namesById("/api/sources");
  const { results, status, show, choose } = filteredResults(filter, {
    address: (f) => `#/events${queryOf(f)}`,
    load: (f) => eventList(f, names),
    count: (shown, more) => `${shown}${more ? "+" : ""} ${shown === 1 && !more ? "event" : "events"}`,
  });
  await show();
  view.mount(h("div", { class: "toolbar" }, h("h1", {}, "Events")), filterBar(filter, names, choose), status, results);
}

/** Tabs over one `<pre>`: each tab shows its own text. Arrow keys move between tabs, as in any tab list. */
function tabs(views) {
  const pre = h("pre", { class: "body", id: "event-json", role: "tabpanel", tabindex: "0" });
  const buttons = views.map(([label, text], index) =>
    h("button", { type: "button", role: "tab", "aria-controls": "event-json", onclick: () => select(index), onkeydown: (e) => step(e, index) }, label),
  );
  const select = (index) => {
    buttons.forEach((button, i) => {
      button.setAttribute("aria-selected", String(i === index));
      button.tabIndex = i === index ? 0 : -1;
    });
    pre.textContent = views[index][1];
  };
  const step = (e, index) => {
    const delta = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!delta) return;
    const next = (index + delta + buttons.length) % buttons.length;
    select(next);
    buttons[next].focus();
  };
  select(0);
  return [h("div", { role: "tablist", class: "tabs", "aria-label": "Event views" }, buttons), pre];
}

/** Why a rule leaves the event out (the gateway's `unmatched`), in the webhook form's words; null: it would take it now. */
const LEFT_OUT = {
  events: (event) => (event.type === "unmapped" ? "an unmapped event is never delivered" : `${event.type} is not ticked under its Events`),
  call_types: (event) =>
    event.direction ? `${event.direction} is not ticked under its Call types` : "this event has no call type (direction), and its Call types are ticked",
  source_ids: () => "this event's source is not ticked under its Sources",
  filter: () => "its filter is not true for this event",
  disabled: () => "it is inactive (it would take this event otherwise)",
  null: () => "it would take this event now",
};

/** Said after the reason of a rule made or saved since the event came in: the reason is the rule's now, not then. */
const SINCE_EVENT = { made: " (made after this event came in)", changed: " (changed after this event came in)" };

/** What sends the event to a rule that would take it now but has no delivery of it. */
const MISSED = "; Send missed events on its page sends it";

/** The rules that made no delivery of the event, each with what leaves the event out, as the gateway worked it out now. */
function rulesWithoutDelivery(event, { rules, more }, delivered) {
  if (!rules.length) return delivered ? null : h("p", { class: "muted" }, "There is no webhook rule: create one to send events like this.");
  return h(
    "div",
    { id: "rules-without-delivery" },
    h("h3", {}, delivered ? "The other webhooks" : "Why no webhook took it"),
    h(
      "p",
      { class: "hint" },
      rules.some((rule) => rule.since_event)
        ? "Checked now, against the webhooks as they are now; those made or changed since this event came in say so."
        : "Checked now: none of these webhooks has changed since this event came in, so this is why each made no delivery.",
    ),
    h(
      "ul",
      { class: "plain" },
      rules.map((rule) =>
        h(
          "li",
          { "data-id": rule.id },
          h("a", { href: `#/webhooks/${rule.id}` }, rule.name),
          `: ${LEFT_OUT[rule.unmatched ?? "null"](event)}${SINCE_EVENT[rule.since_event] ?? ""}${rule.unmatched === null ? MISSED : ""}.`,
        ),
      ),
    ),
    more ? h("p", { class: "muted" }, `And ${more} more ${more === 1 ? "webhook" : "webhooks"}, further from taking it.`) : null,
  );
}

/** The call the event belongs to, linked to all its events (a PBX sends several per call: start, answer, end). */
function callLine(event, sources) {
  const address = `#/events${queryOf({ source_id: event.source_id, uniqueid: event.uniqueid })}`;
  return h(
    "p",
    { id: "event-call" },
    "Call ",
    h("span", { class: "mono" }, event.uniqueid),
    ` from ${sources.get(event.source_id) ?? event.source_id}`,
    [event.src, event.dst].some(Boolean) ? [", ", h("span", { class: "mono" }, [event.src, event.dst].filter(Boolean).join(" → "))] : null,
    ": ",
    h("a", { href: address }, "all its events"),
  );
}

export async function showEvent(view) {
  const [event, sources, webhooks] = await Promise.all([
    api("GET", `/api/events/${encodeURIComponent(view.id)}`),
    namesById("/api/sources"),
    namesById("/api/webhooks"),
  ]);
  const { raw, deliveries, rules_without_delivery: others, ...canonical } = event;
  view.mount(
    h("div", { class: "toolbar" }, h("h1", {}, "Event ", h("span", { class: "mono" }, event.event_id)), h("span", { class: "muted" }, event.type)),
    callLine(event, sources),
    h("section", { class: "panel" }, tabs([["Canonical", pretty(canonical)], ["Raw payload", pretty(raw)]])),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Deliveries"),
      deliveries.length
        ? deliveriesTable({ id: "event-deliveries" }, deliveries, webhooks, ["created", "webhook", "status", "attempts", "result", "preview"])
        : h("p", { class: "muted" }, "No delivery: no webhook took this event."),
      rulesWithoutDelivery(event, others, deliveries.length > 0),
    ),
  );
}

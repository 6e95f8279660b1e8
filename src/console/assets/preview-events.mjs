// The events a rule's preview offers: a sample of each PBX, the 20 latest stored, and the one a link names
// (`#/webhooks/:id?event=evt_...`, from a delivery or an event), chosen however old it is.

import { api, ApiError } from "./api.mjs";
import { h, when } from "./dom.mjs";

/** The event `id` names as the events list has it, or null when it is not stored (any more). */
async function storedEvent(id) {
  try {
    const { raw, deliveries, rules_without_delivery: others, ...event } = await api("GET", `/api/events/${encodeURIComponent(id)}`);
    return event;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/**
 * What the preview may be asked about: `samples`, the `recent` events, the `linked` one `eventId` names (null
 * when none is named or it is not stored; then `unknown` is its id), and the option `chosen` first.
 */
export async function previewEvents(eventId) {
  const [samples, recent, linked] = await Promise.all([
    api("GET", "/api/samples").then((r) => r.data),
    api("GET", "/api/events?limit=20").then((r) => r.data),
    eventId ? storedEvent(eventId) : null,
  ]);
  return { samples, recent, linked, unknown: eventId && !linked ? eventId : null, chosen: linked ? `event:${linked.event_id}` : null };
}

const eventLabel = (e) => `${e.type} · ${[e.src, e.dst].filter(Boolean).join(" → ")} · ${when(e.received_at)}`;

/** The chooser's options, `sample:<id>` or `event:<id>`; a linked event older than the recent ones gets a group of its own. */
function eventOptions({ samples, recent, linked, chosen }) {
  const option = (e) => h("option", { value: `event:${e.event_id}`, selected: `event:${e.event_id}` === chosen }, eventLabel(e));
  const older = linked && !recent.some((e) => e.event_id === linked.event_id);
  return [
    h("optgroup", { label: "Samples" }, samples.map((s) => h("option", { value: `sample:${s.id}` }, s.label))),
    older ? h("optgroup", { label: "Linked event" }, option(linked)) : null,
    recent.length ? h("optgroup", { label: "Recent events" }, recent.map(option)) : null,
  ];
}

/** The event chooser, with the linked event chosen if any. */
export function eventChooser(events) {
  return h("select", { id: "preview-event" }, eventOptions(events));
}

/** What the API is asked to preview for an option's value: `{sample}` or `{event_id}`. */
export function choiceOf(value) {
  const [kind, id] = value.split(/:(.*)/s);
  return kind === "sample" ? { sample: id } : { event_id: id };
}

/** The fields of the event an option's value names, as the preview shows them. */
export function eventOf({ samples, recent, linked }, value) {
  const { sample, event_id: id } = choiceOf(value);
  return (sample ? samples.find((s) => s.id === sample)?.event : [linked, ...recent].find((e) => e?.event_id === id)) ?? {};
}

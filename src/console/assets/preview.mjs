// The live preview beside the webhook form: the exact request (method, URL, headers, body) the rule being
// edited would send for a chosen event, rendered by the gateway itself as the form changes.

import { api, ApiError } from "./api.mjs";
import { requestBlock } from "./deliveries.mjs";
import { badge, h, pretty } from "./dom.mjs";
import { choiceOf, eventChooser, eventOf } from "./preview-events.mjs";

const DEBOUNCE_MS = 150;
// After a refusal (a 4xx, which the browser logs in its console each time), a longer pause: typing through a
// fix asks the gateway about once, not at each keystroke.
const REFUSED_DEBOUNCE_MS = 800;

/** What the gateway is asked to preview: a draft need not be named or have events yet. */
function previewRule(rule) {
  const draft = { ...rule };
  if (!draft.name?.trim()) delete draft.name;
  if (!draft.events?.length) delete draft.events;
  return draft;
}

/** Why the rule leaves the event out, by the field the gateway names (`unmatched`), in the form's words. */
const WHY_NOT = {
  events: (event) => `This event's type, ${event.type}, is not ticked under Events.`,
  call_types: (event) =>
    event.direction ? `This call's type, ${event.direction}, is not ticked under Call types.` : "This event has no call type (direction), and Call types are ticked.",
  source_ids: () => "This event came from a source not ticked under Sources.",
  filter: () => "The filter is not true for this event.",
};

/** The verdict: would this event be sent, and if not, why? A draft with no event type ticked matches nothing, whatever the API says. */
function verdictOf(request, draft, event) {
  if (!draft.events?.length) return [badge("would not be sent", "off"), " ", "No event type is chosen: tick at least one under When."];
  return request.matches
    ? [badge("would be sent", "good"), " ", "This event matches the rule."]
    : [badge("would not be sent", "off"), " ", WHY_NOT[request.unmatched]?.(event) ?? "This event does not match the rule."];
}

/** The gateway's preview of a draft (`question`, the request's JSON body): `{request}`, or `{error}` when refused. */
async function ask(question) {
  try {
    return { request: await api("POST", "/api/preview", JSON.parse(question)) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { error };
  }
}

/**
 * What a receiver would likely refuse although the request renders (a JSON body that is not JSON): shown as
 * a caution, not an error, since the request is sent all the same. Redrawn only when it changes, so that a
 * screen reader hears it once, not on each keystroke.
 */
function showWarnings(box, warnings) {
  const text = warnings.join("\n");
  if (box.dataset.shown === text) return;
  box.dataset.shown = text;
  box.replaceChildren(
    ...(warnings.length
      ? [
          h("p", {}, badge("warning", "wait"), " ", "Sent all the same, but the receiver may refuse it:"),
          h("ul", {}, warnings.map((warning) => h("li", {}, warning.charAt(0).toUpperCase() + warning.slice(1)))),
        ]
      : []),
  );
}

/** Said when the event a link names is not stored (any more, past RETENTION_DAYS): the chooser has not got it. */
function unknownEvent(id) {
  return id ? h("p", { class: "error", id: "preview-event-unknown" }, `The event ${id} is not stored (any more): pick another.`) : null;
}

/**
 * The preview panel. `rule()` reads the form; `missing()` says what the draft still needs before it can be
 * previewed (null when nothing), so that a fresh form asks the gateway nothing it must refuse. `events` are
 * those it offers (preview-events.mjs). Problems the gateway finds show on the form's fields (`errors`), the
 * rest in the panel.
 */
export function livePreview({ rule, missing, events, errors }) {
  const chooser = eventChooser(events);
  const verdict = h("p", { id: "preview-match" });
  const output = h("div", { id: "preview-output" });
  // In the page from the start, so that a screen reader hears what is put in it later.
  const warnings = h("div", { class: "preview-warnings", id: "preview-warnings", role: "status" });
  const eventFields = h("pre", { class: "body", id: "preview-event-json" });
  let pending = null;
  let sequence = 0;
  // The last question asked and its answer: the same draft for the same event is not asked again.
  let asked = null;
  let answer = null;

  const eventChoice = () => choiceOf(chooser.value);
  const chosenEvent = () => eventOf(events, chooser.value);
  const showEvent = () => (eventFields.textContent = pretty(chosenEvent()));

  async function render() {
    const mine = ++sequence;
    const needed = missing();
    if (needed) {
      errors.clear("live");
      showWarnings(warnings, []);
      verdict.replaceChildren();
      output.replaceChildren(h("p", { class: "muted", id: "preview-missing" }, needed));
      return;
    }
    const draft = rule();
    const question = JSON.stringify({ webhook: previewRule(draft), ...eventChoice() });
    const result = question === asked ? answer : await ask(question);
    if (mine !== sequence) return;
    [asked, answer] = [question, result];
    errors.clear("live");
    showWarnings(warnings, result.request?.warnings ?? []);
    if (result.request) {
      verdict.replaceChildren(...verdictOf(result.request, draft, chosenEvent()));
      output.replaceChildren(requestBlock(result.request, "preview-request"));
      return;
    }
    const unplaced = errors.show(result.error.details, "live");
    verdict.replaceChildren(badge("cannot render", "bad"));
    output.replaceChildren(
      h(
        "div",
        { class: "preview-error", id: "preview-error", role: "alert" },
        h("p", {}, result.error.message),
        unplaced.length < result.error.details.length ? h("p", { class: "muted" }, "Fix the rule in the form: the preview follows.") : null,
      ),
    );
  }

  const refresh = () => {
    clearTimeout(pending);
    const delay = answer?.error ? REFUSED_DEBOUNCE_MS : DEBOUNCE_MS;
    pending = setTimeout(() => render().catch((error) => output.replaceChildren(h("p", { class: "error" }, error.message))), delay);
  };
  chooser.addEventListener("change", () => {
    showEvent();
    refresh();
  });
  showEvent();

  const element = h(
    "aside",
    { class: "preview panel", id: "preview", "aria-label": "Preview" },
    h("h2", {}, "Preview"),
    h("p", { class: "hint" }, "The exact request this rule sends for the chosen event. Nothing is sent."),
    h("label", { for: "preview-event" }, "Event"),
    chooser,
    unknownEvent(events.unknown),
    verdict,
    warnings,
    output,
    h("details", {}, h("summary", {}, "Fields of this event"), eventFields),
  );
  return { element, refresh, eventChoice, focusEvent: () => chooser.focus() };
}

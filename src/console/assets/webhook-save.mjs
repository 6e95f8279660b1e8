// The webhook form's buttons: save (create the rule, or change it) and send a test event through the saved
// rule. What the API refuses shows under the field it names, the rest beside the buttons.

import { api, ApiError } from "./api.mjs";
import { h, toast } from "./dom.mjs";
import { rememberCreated, showOff } from "./webhook-notices.mjs";

/**
 * The buttons, and `save` for the form's submit. `draft()` is the rule as the API takes it; a saved rule's
 * inactive notice (`offNotice`) follows what the API answers; a test sends the event `eventChoice()` names.
 */
export function formActions({ existing, draft, errors, offNotice, eventChoice }) {
  const formError = h("p", { class: "error", role: "alert", id: "form-error" });
  let saved = JSON.stringify(draft());

  async function save(event) {
    event.preventDefault();
    errors.clear("save");
    formError.textContent = "";
    const rule = draft();
    try {
      if (existing) {
        // Like the signing secret: a secret access key still shown masked is left out, so the stored one stays.
        const change = structuredClone(rule);
        if (change.sqs && existing.sqs && change.sqs.secret_access_key === existing.sqs.secret_access_key) delete change.sqs.secret_access_key;
        showOff(offNotice, await api("PATCH", `/api/webhooks/${existing.id}`, change));
        saved = JSON.stringify(rule);
        toast(`Saved “${rule.name}”`);
      } else {
        const created = await api("POST", "/api/webhooks", rule);
        rememberCreated(created);
        location.hash = `#/webhooks/${created.id}`;
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const unplaced = errors.show(error.details, "save");
      formError.textContent = unplaced.length || !error.details.length ? error.message : "Some fields need attention: see the messages under them.";
      errors.focusFirst();
    }
  }

  async function sendTest() {
    if (JSON.stringify(draft()) !== saved) {
      toast("Save your changes first: a test sends the saved rule.");
      return;
    }
    try {
      const delivery = await api("POST", `/api/webhooks/${existing.id}/test`, eventChoice());
      location.hash = `#/deliveries/${delivery.id}`;
    } catch (error) {
      toast(error.message);
    }
  }

  const element = h(
    "div",
    { class: "form-actions" },
    h("button", { type: "submit", class: "primary" }, existing ? "Save changes" : "Create webhook"),
    h("a", { class: "button", href: "#/webhooks" }, "Cancel"),
    existing ? h("button", { type: "button", onclick: () => sendTest() }, "Send test event") : null,
    formError,
  );
  return { element, save };
}

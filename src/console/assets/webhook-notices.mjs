// The notices atop a saved rule's page: the rule just created (with its signing secret, shown only then), and
// why the rule is inactive.

import { h, when } from "./dom.mjs";

/** The secret a rule was created with, shown once on the page that follows the creation. */
let createdSecret = null;

/** Keeps the secret of the rule just created for the page that follows, which shows it once. */
export function rememberCreated(created) {
  createdSecret = { id: created.id, secret: created.secret };
}

/**
 * Said once, on the page that follows the creation, of every new rule, not only of a signed one: a preset's
 * rule (unsigned) would otherwise just turn into its edit page.
 */
function createdNoticeOf(rule, secret) {
  return h(
    "div",
    { class: "panel notice", id: "webhook-created" },
    h("h2", {}, "Webhook created"),
    rule.signing === "none"
      ? h("p", {}, "Send test event, under the form, sends the event picked in the preview through it now.")
      : [
          h("p", {}, "Its signing secret is shown only now: give it to the receiver to verify signatures."),
          h("div", { class: "secret", id: "webhook-secret" }, secret),
        ],
  );
}

/** The "Webhook created" notice if `rule` is the one just created (null otherwise); the secret is then forgotten. */
export function createdNotice(rule) {
  const notice = rule && createdSecret?.id === rule.id ? createdNoticeOf(rule, createdSecret.secret) : null;
  createdSecret = null;
  return notice;
}

/** The notice of why `rule` is inactive, hidden while it is active; showOff redraws it after a save. */
export function offNotice(rule) {
  const notice = h("p", { class: "panel notice", id: "webhook-disabled" });
  showOff(notice, rule);
  return notice;
}

/**
 * Shows why a saved rule is inactive, where the gateway knows (`disabled`): when, and by hand or by its
 * receiver's 410 Gone to a delivery (linked); hidden while it is active.
 */
export function showOff(notice, rule) {
  const off = rule.enabled ? null : rule.disabled;
  notice.hidden = !off;
  if (!off) return notice.replaceChildren();
  notice.replaceChildren(
    ...(off.reason === "gone"
      ? [
          `Inactive since ${when(off.at)}: its receiver answered ${off.status_code} Gone to delivery `,
          h("a", { href: `#/deliveries/${off.delivery_id}` }, off.delivery_id),
          ", so the gateway turned it off. Once the receiver takes requests again, tick Active and save.",
        ]
      : [`Inactive since ${when(off.at)}: turned off by hand.`]),
  );
}

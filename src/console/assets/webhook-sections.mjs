// The webhook form's sections, Start from to Hangup causes, and the parts of them shown only for some
// choices: an HTTP request's method and headers or an SQS queue's settings, the chosen payload kind's editor,
// the signing secret when requests are signed.

import { h } from "./dom.mjs";
import { labelled } from "./fields.mjs";
import { isSqs, payloadKindOf } from "./webhook-controls.mjs";
import { DEFAULT_MESSAGE_GROUP_ID } from "./vocabulary.mjs";

const URL_HINT = "Handlebars allowed: {{agent.extension}}, {{{config.instance_url}}} for a preset's settings.";

/** Shows the editor of the chosen payload kind; a GET request has no body, so no template. */
function showPayloadEditor(c, parts) {
  const isGet = !isSqs(c) && c.method.value === "GET";
  c.payloadRadios.get("template").disabled = isGet;
  if (isGet && payloadKindOf(c) === "template") c.payloadRadios.get("map").checked = true;
  const kind = payloadKindOf(c);
  parts.map.hidden = kind !== "map";
  parts.expression.hidden = kind !== "expression";
  parts.template.hidden = kind !== "template";
}

/**
 * Shows what the chosen transport uses: an SQS message has a queue URL, credentials and a message group, and
 * no method, headers or content type (its body is the JSON params or the template).
 */
function showTransport(c, parts) {
  const sqs = isSqs(c);
  for (const part of [parts.method, parts.headers, parts.contentType]) part.hidden = sqs;
  parts.sqs.hidden = !sqs;
  parts.urlLabel.textContent = sqs ? "Queue URL" : "URL";
  parts.urlHint.textContent = sqs ? "The queue's URL as AWS shows it; a queue named *.fifo is a FIFO queue." : URL_HINT;
  c.url.placeholder = sqs ? "https://sqs.eu-west-1.amazonaws.com/123456789012/calls.fifo" : "https://crm.example.com/calls?ext={{agent.extension}}";
  showPayloadEditor(c, parts);
}

/** The signing secret only when requests are signed, with what that kind of signing takes. */
function showSigning(c, parts, existing) {
  parts.secret.hidden = c.signing.value === "none";
  const kind = c.signing.value === "standard" ? "A whsec_ secret" : "Any shared secret of 8 characters or more";
  parts.secretHint.textContent = existing?.secret
    ? "Shown masked; leave as is to keep it, or type a new one."
    : `${kind}, given to the receiver to verify signatures; leave empty to generate one.`;
}

/** Keeps the parts shown as they should be for the chosen method, payload kind, transport and signing. */
export function followChoices(c, parts, existing) {
  c.method.addEventListener("change", () => showPayloadEditor(c, parts));
  c.payload.addEventListener("change", () => showPayloadEditor(c, parts));
  c.transport.addEventListener("change", () => showTransport(c, parts));
  c.signing.addEventListener("change", () => showSigning(c, parts, existing));
}

/** Shows the parts the controls' values call for, once they are filled. */
export function showChosen(c, parts, existing) {
  showTransport(c, parts);
  showSigning(c, parts, existing);
}

function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/** The labelled request and payload controls the form shows or hides by method, payload kind and transport. */
export function requestParts(c, errors, existing) {
  const parts = {
    map: c.params.element,
    expression: labelled("Expression", c.expression, {
      hint: "A JSONata expression that yields an object of parameters.",
      errors,
      path: "params",
    }),
    template: h(
      "div",
      {},
      labelled("Body template", c.template, {
        hint: "Handlebars over the event: {{src}}, {{agent.name}}, {{#if leadid}}…{{/if}}, {{json tags}}, {{date end_at 'YYYY-MM-DD'}}. Values are escaped for the content type.",
        errors,
        path: "body_template",
      }),
    ),
    contentType: labelled("Content type", c.contentType, { errors, path: "content_type" }),
    method: labelled("Method", c.method, { errors, path: "method" }),
    url: labelled("URL", c.url, { hint: URL_HINT, errors, path: "url" }),
    headers: c.headers.element,
    sqs: h(
      "div",
      { id: "sqs-settings" },
      labelled("Region", c.sqsRegion, { hint: "The queue's AWS region; read from an AWS queue URL (sqs.<region>.amazonaws.com) when empty.", errors, path: "sqs.region" }),
      labelled("Access key ID", c.sqsKeyId, { hint: "An IAM user's key that may sqs:SendMessage to this queue.", errors, path: "sqs.access_key_id" }),
      labelled("Secret access key", c.sqsSecret, {
        hint: existing?.sqs ? "Shown masked; leave as is to keep it, or type a new one." : "Stored encrypted; never shown again.",
        errors,
        path: "sqs.secret_access_key",
      }),
      labelled("Message group ID", c.sqsGroup, {
        hint: `FIFO queues (name ending in .fifo): Handlebars over the event; empty: ${DEFAULT_MESSAGE_GROUP_ID}, so that one call's events stay in order. Standard queues: sent only when set.`,
        errors,
        path: "sqs.message_group_id",
      }),
    ),
  };
  // Named apart from a preset's own "Signing secret" setting (VoIP Cloud's), which is another secret.
  parts.secret = labelled("Webhook signing secret", c.secret, { errors, path: "secret" });
  parts.secretHint = h("p", { class: "hint" });
  parts.secret.querySelector("label").after(parts.secretHint);
  parts.template.append(parts.contentType);
  parts.urlLabel = parts.url.querySelector("label");
  parts.urlHint = parts.url.querySelector(".hint");
  parts.sqs.append(errors.add("sqs", errors.line(null)));
  return parts;
}

/** The form's sections, Start from to Hangup causes: every control, labelled, where the API's errors show. */
export function formSections(c, errors, { presetPicker, settingsBox, parts }) {
  return [
    section("Start from", labelled("Preset", presetPicker, { errors, path: "preset" }), settingsBox),
    section("Name", labelled("Name", c.name, { errors, path: "name" }), h("label", { class: "inline" }, c.enabled, "Active: deliver matching events")),
    section(
      "When",
      c.events.element,
      c.callTypes.element,
      c.sources.element,
      labelled("Filter (optional)", c.filter, { hint: "A JSONata condition over the event; only events for which it is true are sent.", errors, path: "filter" }),
    ),
    section(
      "Request",
      labelled("Transport", c.transport, { hint: "Where the payload goes: an HTTP request to a URL, or a message to an AWS SQS queue.", errors, path: "transport" }),
      parts.method,
      parts.url,
      parts.headers,
      parts.sqs,
    ),
    section("Payload", c.payload, parts.map, parts.expression, parts.template, c.fieldList),
    section(
      "Delivery",
      h(
        "div",
        { class: "row" },
        labelled("Retries", c.retries, { errors, path: "retries" }),
        labelled("Delay (seconds)", c.delay, { errors, path: "delay_seconds" }),
        labelled("Timeout (ms)", c.timeout, { errors, path: "timeout_ms" }),
      ),
      labelled("Signing", c.signing, { errors, path: "signing" }),
      parts.secret,
    ),
    section(
      "Hangup causes",
      h("p", { class: "hint" }, "Rename the hangup cause the payload carries (hangup_cause), e.g. NO_ANSWER → Missed. Empty: unchanged."),
      h(
        "div",
        { class: "causes" },
        [...c.causes].map(([cause, input]) => labelled(cause, input, { errors, path: `hangup_causes.${cause}` })),
      ),
    ),
  ];
}

// The webhook form: create a rule (custom or from a preset) or edit one, beside a live preview of the exact
// request it sends. What the API says is wrong shows under the field it names.

import { api, ApiError } from "./api.mjs";
import { h, toast, valueOf, when } from "./dom.mjs";
import { checkboxGroup, FieldErrors, labelled, pairEditor } from "./fields.mjs";
import { livePreview } from "./preview.mjs";
import { recoverPanel } from "./recover.mjs";
import { replayPanel } from "./replay.mjs";
import { DEFAULT_MESSAGE_GROUP_ID, DIRECTIONS, EVENT_TYPES, HANGUP_CAUSES, METHODS, SIGNINGS, TRANSPORTS, WEBHOOK_DEFAULTS } from "./vocabulary.mjs";

const METHOD_LABELS = {
  GET: "GET: parameters in the query string",
  POST: "POST: parameters form-encoded",
  POST_JSON: "POST: JSON body",
  PUT: "PUT: JSON body",
  PATCH: "PATCH: JSON body",
};
const URL_HINT = "Handlebars allowed: {{agent.extension}}, {{{config.instance_url}}} for a preset's settings.";
const TRANSPORT_LABELS = { http: "HTTP request", sqs: "AWS SQS message" };
const SIGNING_LABELS = {
  standard: "Standard Webhooks (webhook-signature header)",
  "hmac-hex": "HMAC-SHA256 hex in x-signature (the Wildix way)",
  none: "None",
};
const PAYLOADS = [
  ["map", "Parameter map"],
  ["expression", "One JSONata expression"],
  ["template", "Body template (Handlebars)"],
];

/** What a new rule starts as: the API's defaults, for the end of each call. */
const NEW_RULE = { ...WEBHOOK_DEFAULTS, events: ["call.end"] };

/** The secret a rule was created with, shown once on the page that follows the creation. */
let createdSecret = null;

const select = (options, labels = {}) => h("select", {}, options.map((value) => h("option", { value }, labels[value] ?? value)));
const text = (attrs = {}) => h("input", { spellcheck: "false", ...attrs });
const number = (min, max) => h("input", { type: "number", min, max, step: 1, inputmode: "numeric" });

/** The settings a preset asks for (`preset_config`): one control each, secrets as password inputs. */
function presetSettings(preset, errors) {
  const controls = new Map();
  const fields = Object.entries(preset.config).map(([name, field]) => {
    const control =
      field.type === "boolean"
        ? h("input", { type: "checkbox" })
        : text({
            type: field.secret ? "password" : field.type === "url" ? "url" : "text",
            autocomplete: field.secret ? "new-password" : "off",
            placeholder: field.example ?? (typeof field.default === "string" ? field.default : ""),
            required: field.required,
          });
    controls.set(name, control);
    const label = `${field.label}${field.required ? " (required)" : ""}`;
    return labelled(label, control, { hint: field.description, errors, path: `preset_config.${name}` });
  });
  return {
    element: h("div", { class: "preset-settings", id: "preset-settings" }, fields),
    read: () =>
      Object.fromEntries(
        [...controls].map(([name, control]) => [name, valueOf(control)]).filter(([, value]) => value !== ""),
      ),
    set(config) {
      for (const [name, control] of controls) {
        const value = config[name] ?? preset.config[name].default;
        if (control.type === "checkbox") control.checked = value === true;
        else control.value = value ?? "";
      }
    },
  };
}

/** Every control of the form, and how to read a rule from it and fill it from one. */
function webhookControls(errors, sources, fieldList) {
  const c = {
    name: text({ maxlength: 200, required: true }),
    enabled: h("input", { type: "checkbox" }),
    events: checkboxGroup("Events", EVENT_TYPES.map((t) => [t, t]), { errors, path: "events", name: "events" }),
    callTypes: checkboxGroup("Call types", DIRECTIONS.map((d) => [d, d]), {
      errors,
      path: "call_types",
      name: "call_types",
      hint: "None ticked: every call.",
    }),
    sources: checkboxGroup("Sources", sources.map((s) => [s.id, `${s.name} (${s.kind})`]), {
      errors,
      path: "source_ids",
      name: "source_ids",
      hint: sources.length ? "None ticked: events from every source." : "No source yet: events from every source.",
    }),
    filter: text({ class: "mono", placeholder: "bill_duration > 30", list: "canonical-fields" }),
    transport: select(TRANSPORTS, TRANSPORT_LABELS),
    method: select(METHODS, METHOD_LABELS),
    url: text({ class: "mono", type: "text", placeholder: "https://crm.example.com/calls?ext={{agent.extension}}", required: true }),
    headers: pairEditor({ id: "headers", legend: "Headers", names: "Header", values: "Value", add: "Add header", errors, path: "headers" }),
    payload: h("div", { class: "options", role: "radiogroup", "aria-label": "Payload" }),
    params: pairEditor({
      id: "params",
      legend: "Parameter map",
      hint: "Each value is a JSONata expression over the event: a field name (src, agent.extension) or more ($round(bill_duration / 60)).",
      names: "Parameter",
      values: "Expression",
      add: "Add parameter",
      errors,
      path: "params",
      valueList: "canonical-fields",
    }),
    expression: h("textarea", { class: "mono", rows: 6, spellcheck: "false", placeholder: '{"phone": src, "minutes": $round(bill_duration / 60)}' }),
    template: h("textarea", { class: "mono", rows: 16, spellcheck: "false", placeholder: '{"from": "{{src}}", "to": "{{dst}}"}' }),
    contentType: text({ class: "mono" }),
    retries: number(0, 20),
    delay: number(0, 604800),
    timeout: number(100, 60000),
    signing: select(SIGNINGS, SIGNING_LABELS),
    secret: text({ class: "mono", autocomplete: "off", placeholder: "Leave empty to generate one" }),
    causes: new Map(HANGUP_CAUSES.map((cause) => [cause, text({ placeholder: cause })])),
    sqsRegion: text({ class: "mono", placeholder: "eu-west-1" }),
    sqsKeyId: text({ class: "mono", autocomplete: "off", placeholder: "AKIA…" }),
    sqsSecret: text({ class: "mono", type: "password", autocomplete: "new-password" }),
    sqsGroup: text({ class: "mono", placeholder: DEFAULT_MESSAGE_GROUP_ID }),
  };
  c.payloadRadios = new Map(
    PAYLOADS.map(([value, label]) => {
      const radio = h("input", { type: "radio", name: "payload", value });
      c.payload.append(h("label", { class: "inline" }, radio, label));
      return [value, radio];
    }),
  );
  c.fieldList = h("datalist", { id: "canonical-fields" }, fieldList.map((field) => h("option", { value: field })));
  return c;
}

function payloadKindOf(c) {
  return [...c.payloadRadios].find(([, radio]) => radio.checked)?.[0] ?? "map";
}

const isSqs = (c) => c.transport.value === "sqs";

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

/** Fills the controls from a rule (or a preset's part of one). */
function fill(c, rule) {
  c.name.value = rule.name ?? "";
  c.enabled.checked = rule.enabled ?? true;
  c.events.set(rule.events ?? []);
  c.callTypes.set(rule.call_types ?? []);
  c.sources.set(rule.source_ids ?? []);
  c.filter.value = rule.filter ?? "";
  c.transport.value = rule.transport ?? WEBHOOK_DEFAULTS.transport;
  c.method.value = rule.method ?? WEBHOOK_DEFAULTS.method;
  c.url.value = rule.url ?? "";
  c.headers.set(rule.headers ?? {});
  const kind = rule.body_template != null ? "template" : typeof rule.params === "string" ? "expression" : "map";
  c.payloadRadios.get(kind).checked = true;
  c.params.set(rule.params && typeof rule.params === "object" ? rule.params : {});
  c.expression.value = typeof rule.params === "string" ? rule.params : "";
  c.template.value = rule.body_template ?? "";
  c.contentType.value = rule.content_type ?? WEBHOOK_DEFAULTS.content_type;
  c.retries.value = rule.retries ?? WEBHOOK_DEFAULTS.retries;
  c.delay.value = rule.delay_seconds ?? WEBHOOK_DEFAULTS.delay_seconds;
  c.timeout.value = rule.timeout_ms ?? WEBHOOK_DEFAULTS.timeout_ms;
  c.signing.value = rule.signing ?? WEBHOOK_DEFAULTS.signing;
  c.secret.value = rule.secret ?? "";
  for (const [cause, input] of c.causes) input.value = rule.hangup_causes?.[cause] ?? "";
  c.sqsRegion.value = rule.sqs?.region ?? "";
  c.sqsKeyId.value = rule.sqs?.access_key_id ?? "";
  c.sqsSecret.value = rule.sqs?.secret_access_key ?? "";
  c.sqsGroup.value = rule.sqs?.message_group_id ?? "";
}

/** The rule the controls describe, as the API takes it. */
function ruleOf(c, settings) {
  const kind = payloadKindOf(c);
  const optional = (value) => (value.trim() === "" ? null : value);
  const rule = {
    name: c.name.value,
    enabled: c.enabled.checked,
    events: c.events.checked(),
    call_types: c.callTypes.checked(),
    source_ids: c.sources.checked(),
    filter: optional(c.filter.value),
    method: c.method.value,
    url: c.url.value.trim(),
    headers: c.headers.pairs(),
    params: kind === "map" ? c.params.pairs() : kind === "expression" ? optional(c.expression.value) : null,
    body_template: kind === "template" ? optional(c.template.value) : null,
    content_type: c.contentType.value.trim() || WEBHOOK_DEFAULTS.content_type,
    retries: valueOf(c.retries),
    delay_seconds: valueOf(c.delay),
    timeout_ms: valueOf(c.timeout),
    signing: c.signing.value,
    hangup_causes: Object.fromEntries([...c.causes].map(([cause, input]) => [cause, input.value]).filter(([, name]) => name !== "")),
  };
  if (c.signing.value !== "none" && c.secret.value.trim()) rule.secret = c.secret.value.trim();
  if (settings) rule.preset_config = settings.read();
  rule.transport = c.transport.value;
  rule.sqs = null;
  if (isSqs(c)) {
    // An SQS message's body is the params as JSON (or the template); it has no HTTP headers.
    Object.assign(rule, { method: "POST_JSON", headers: {} });
    rule.sqs = {
      region: optional(c.sqsRegion.value.trim()),
      access_key_id: c.sqsKeyId.value.trim(),
      secret_access_key: c.sqsSecret.value.trim(),
      message_group_id: optional(c.sqsGroup.value.trim()),
    };
  }
  return rule;
}

/** Dotted paths of the canonical event's fields (`agent.extension`), offered in expression inputs. */
function fieldPaths(event, prefix = "") {
  return Object.entries(event)
    .filter(([name]) => name !== "raw")
    .flatMap(([name, value]) =>
      value && typeof value === "object" && !Array.isArray(value) ? fieldPaths(value, `${prefix}${name}.`) : [`${prefix}${name}`],
    );
}

/** The parts of a rule a preset decides (besides its own settings); a preset is HTTP only, so transport too. */
function presetSets(preset, key) {
  return Boolean(preset) && (Object.hasOwn(preset.webhook, key) || ["preset_config", "transport", "sqs"].includes(key));
}

const FIELD_NAMES = { url: "URL", preset_config: "the preset's settings", body_template: "body template", params: "payload", content_type: "content type", sqs: "SQS settings" };

function replaceQuestion(preset, keys) {
  const names = keys.map((key) => FIELD_NAMES[key] ?? key.replaceAll("_", " "));
  return `${preset ? `The preset “${preset.name}”` : "A custom webhook"} replaces what you changed: ${names.join(", ")}. Replace it?`;
}

/** What the draft needs before the gateway can preview it: a URL, and a preset's required settings. */
function missingForPreview(c, preset, settings) {
  if (!c.url.value.trim()) return `Enter the ${isSqs(c) ? "queue URL" : "URL"} to see the request this rule sends.`;
  const given = settings?.read() ?? {};
  const needed = Object.entries(preset?.config ?? {}).filter(([name, field]) => field.required && given[name] === undefined);
  return needed.length ? `Fill in ${needed.map(([, field]) => field.label).join(", ")} to see the request this rule sends.` : null;
}

/**
 * Shows why a saved rule is inactive, where the gateway knows (`disabled`): when, and by hand or by its
 * receiver's 410 Gone to a delivery (linked); hidden while it is active.
 */
function showOff(notice, rule) {
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

function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/** The labelled request and payload controls the form shows or hides by method, payload kind and transport. */
function requestParts(c, errors, existing) {
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
function formSections(c, errors, { presetPicker, settingsBox, parts }) {
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

export async function showWebhookForm(view, id) {
  const [presets, sources, samples, recent, existing] = await Promise.all([
    api("GET", "/api/presets").then((r) => r.data),
    api("GET", "/api/sources?limit=200").then((r) => r.data),
    api("GET", "/api/samples").then((r) => r.data),
    api("GET", "/api/events?limit=20").then((r) => r.data),
    id ? api("GET", `/api/webhooks/${encodeURIComponent(id)}`) : null,
  ]);
  const errors = new FieldErrors();
  const c = webhookControls(errors, sources, fieldPaths(samples[0]?.event ?? {}));
  const settingsBox = h("div");
  let preset = existing?.preset ? presets.find((p) => p.id === existing.preset) : null;
  let settings = preset ? presetSettings(preset, errors) : null;
  const formError = h("p", { class: "error", role: "alert", id: "form-error" });

  const showSettings = () => {
    settingsBox.replaceChildren(
      preset
        ? h("div", {}, h("p", { class: "hint" }, preset.description, " ", preset.docs ? h("a", { href: preset.docs, target: "_blank", rel: "noopener noreferrer" }, "API documentation") : null), settings.element)
        : h("p", { class: "hint" }, "A custom webhook: you write the URL and the payload."),
    );
  };
  const presetPicker = select(["", ...presets.map((p) => p.id)], Object.fromEntries([["", "Custom webhook"], ...presets.map((p) => [p.id, p.name])]));
  // A saved rule keeps its preset: shown, not changeable.
  presetPicker.value = preset?.id ?? "";
  presetPicker.disabled = Boolean(existing);
  // A preset calls its service over HTTP: SQS is for custom webhooks.
  const lockTransport = () => (c.transport.disabled = Boolean(preset));
  // The rule as the form was last filled, to tell what the user has changed since.
  let baseline = null;
  // Another preset keeps what the user changed that it does not set; what it sets replaces theirs after asking.
  presetPicker.addEventListener("change", () => {
    const next = presets.find((p) => p.id === presetPicker.value) ?? null;
    const current = ruleOf(c, settings);
    const edited = [...new Set([...Object.keys(current), ...Object.keys(baseline)])].filter(
      (key) => JSON.stringify(current[key]) !== JSON.stringify(baseline[key]),
    );
    const replaced = edited.filter((key) => presetSets(preset, key) || presetSets(next, key));
    if (replaced.length && !confirm(replaceQuestion(next, replaced))) {
      presetPicker.value = preset?.id ?? "";
      return;
    }
    preset = next;
    settings = preset ? presetSettings(preset, errors) : null;
    settings?.set({});
    const fresh = { ...NEW_RULE, ...(preset?.webhook ?? {}), name: preset?.name ?? "" };
    fill(c, fresh);
    baseline = ruleOf(c, settings);
    fill(c, { ...fresh, ...Object.fromEntries(edited.filter((key) => !replaced.includes(key)).map((key) => [key, current[key]])) });
    showSettings();
    lockTransport();
    showTransport(c, parts);
    showSigning(c, parts, existing);
  });

  const parts = requestParts(c, errors, existing);
  c.method.addEventListener("change", () => showPayloadEditor(c, parts));
  c.payload.addEventListener("change", () => showPayloadEditor(c, parts));
  c.transport.addEventListener("change", () => showTransport(c, parts));
  c.signing.addEventListener("change", () => showSigning(c, parts, existing));

  fill(c, existing ?? NEW_RULE);
  settings?.set(existing?.preset_config ?? {});
  baseline = ruleOf(c, settings);
  showSettings();
  lockTransport();
  showTransport(c, parts);
  showSigning(c, parts, existing);

  // The rule as the API takes it; a secret still shown masked is left out, so the stored one stays.
  const draft = () => {
    const rule = { ...ruleOf(c, settings), preset: preset?.id ?? null };
    if (existing && rule.secret === existing.secret) delete rule.secret;
    return rule;
  };
  const preview = livePreview({ rule: draft, missing: () => missingForPreview(c, preset, settings), samples, recent, errors });
  const changed = (event) => {
    errors.touch(event.target);
    preview.refresh();
  };
  const form = h(
    "form",
    { id: "webhook-form", novalidate: true, oninput: changed, onchange: changed, onsubmit: (e) => save(e) },
    ...formSections(c, errors, { presetPicker, settingsBox, parts }),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "primary" }, existing ? "Save changes" : "Create webhook"),
      h("a", { class: "button", href: "#/webhooks" }, "Cancel"),
      existing ? h("button", { type: "button", onclick: () => sendTest() }, "Send test event") : null,
      formError,
    ),
  );
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
        createdSecret = { id: created.id, secret: created.secret };
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
      const delivery = await api("POST", `/api/webhooks/${existing.id}/test`, preview.eventChoice());
      location.hash = `#/deliveries/${delivery.id}`;
    } catch (error) {
      toast(error.message);
    }
  }

  const createdNotice = existing && createdSecret?.id === existing.id ? createdNoticeOf(existing, createdSecret.secret) : null;
  createdSecret = null;
  const offNotice = h("p", { class: "panel notice", id: "webhook-disabled" });
  showOff(offNotice, existing ?? { enabled: true });
  const recover = existing ? await recoverPanel(existing) : null;
  const replay = existing ? replayPanel(existing) : null;
  view.mount(
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, existing ? `Edit “${existing.name}”` : "New webhook"),
      existing ? h("a", { class: "button", href: `#/deliveries?webhook_id=${existing.id}` }, "Deliveries") : null,
    ),
    createdNotice,
    offNotice,
    recover,
    h("div", { class: "editor" }, form, preview.element),
    // Below the editor: a rule needs it after an outage or when made for past calls, not at every edit.
    replay,
  );
  preview.refresh();
}

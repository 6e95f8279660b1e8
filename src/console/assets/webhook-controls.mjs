// The webhook form's controls, one per field of a rule, and the two ways between them and a rule: fill them
// from one, and read the rule they describe as the API takes it.

import { h, valueOf } from "./dom.mjs";
import { checkboxGroup, number, pairEditor, select, text } from "./fields.mjs";
import { DEFAULT_MESSAGE_GROUP_ID, DIRECTIONS, EVENT_TYPES, HANGUP_CAUSES, METHODS, SIGNINGS, TRANSPORTS, WEBHOOK_DEFAULTS } from "./vocabulary.mjs";

const METHOD_LABELS = {
  GET: "GET: parameters in the query string",
  POST: "POST: parameters form-encoded",
  POST_JSON: "POST: JSON body",
  PUT: "PUT: JSON body",
  PATCH: "PATCH: JSON body",
};
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
export const NEW_RULE = { ...WEBHOOK_DEFAULTS, events: ["call.end"] };

/** Dotted paths of the canonical event's fields (`agent.extension`), offered in expression inputs. */
function fieldPaths(event, prefix = "") {
  return Object.entries(event)
    .filter(([name]) => name !== "raw")
    .flatMap(([name, value]) =>
      value && typeof value === "object" && !Array.isArray(value) ? fieldPaths(value, `${prefix}${name}.`) : [`${prefix}${name}`],
    );
}

/** Every control of the form; the datalist offers the fields of `sampleEvent` in expression inputs. */
export function webhookControls(errors, sources, sampleEvent) {
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
  c.fieldList = h("datalist", { id: "canonical-fields" }, fieldPaths(sampleEvent).map((field) => h("option", { value: field })));
  return c;
}

/** The payload kind whose radio is ticked (a parameter map if none is). */
export function payloadKindOf(c) {
  return [...c.payloadRadios].find(([, radio]) => radio.checked)?.[0] ?? "map";
}

/** Whether the rule goes to an SQS queue rather than as an HTTP request. */
export const isSqs = (c) => c.transport.value === "sqs";

/** Fills the controls from a rule (or a preset's part of one). */
export function fill(c, rule) {
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
export function ruleOf(c, settings) {
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

import { z } from "zod";
import { type Direction, type EventType, directionSchema, eventTypeSchema, HANGUP_CAUSES } from "./event.js";
import { sqsSettingsSchema, type SqsSettings } from "./sqs.js";

/** The longest a rule may wait for its receiver's answer. */
export const MAX_TIMEOUT_MS = 60_000;

type HangupCause = (typeof HANGUP_CAUSES)[number];

export const METHODS = ["GET", "POST", "POST_JSON", "PUT", "PATCH"] as const;
export const SIGNINGS = ["standard", "hmac-hex", "none"] as const;
/** How a rule delivers: an HTTP request to `url`, or a message to the AWS SQS queue at `url` (Wildix's two transmission types). */
export const TRANSPORTS = ["http", "sqs"] as const;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What an HTTP header value cannot carry (RFC 9110 field-value): any control character but horizontal tab. */
export const HEADER_VALUE_CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/**
 * Headers the HTTP layer writes from the request itself: a rule's value would contradict it (a wrong
 * Content-Length fails every attempt) or be dropped (Workers set Host from the URL).
 */
const TRANSPORT_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "expect", "te", "trailer", "host"]);
const headerName = z
  .string()
  .regex(HEADER_NAME, "is not a valid header name")
  .max(256)
  .refine((name) => !TRANSPORT_HEADERS.has(name.toLowerCase()), "is set by the gateway's HTTP layer from the URL and body: leave it out");
const headerValue = z
  .string()
  .max(8192)
  .refine((value) => !HEADER_VALUE_CONTROL.test(value), "contains a control character, which a header value cannot carry (tab excepted)");
const expression = z.string().min(1).max(20_000);

/** Two names differing only in case are one HTTP header, which Node would send as two lines and Workers as one joined value. */
function refuseCaseTwins(headers: Record<string, string>, context: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  for (const name of Object.keys(headers)) {
    const twin = seen.get(name.toLowerCase());
    if (twin !== undefined) context.addIssue({ code: "custom", path: [name], message: `is the same header as "${twin}" (names ignore case): keep one` });
    seen.set(name.toLowerCase(), name);
  }
}

/** A template's literal text, its Handlebars expressions left out: what every rendering of it contains. */
const literalText = (template: string) => template.replace(/\{\{[^]*?\}\}\}?/g, "");

/** The charset a content type names, lower-case, or null: `text/plain; charset="ISO-8859-1"` -> `iso-8859-1`. */
function charsetOf(contentType: string): string | null {
  return /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType)?.[1].toLowerCase() ?? null;
}

/** `params`: an object of JSONata expressions, or one JSONata expression that yields an object. */
const paramsSchema = z.union([z.record(z.string().min(1).max(256), expression), expression]);

/** The fields of a webhook rule an integrator sets; each optional here, so that a PATCH changes only what it names. */
export const webhookFieldsSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    enabled: z.boolean(),
    events: z.array(eventTypeSchema).min(1).max(20),
    call_types: z.array(directionSchema).max(3),
    source_ids: z.array(z.string().min(1).max(64)).max(100),
    filter: expression.nullable(),
    preset: z.string().max(64).nullable(),
    preset_config: z.record(z.string(), z.unknown()),
    method: z.enum(METHODS),
    url: z
      .string()
      .max(4096)
      // A URL may start with an expression ({{{config.base_url}}}); what it renders to is checked to be http(s).
      // The scheme's case spelled out, not by the i flag: a JSON Schema pattern has no flags, so /openapi.json
      // would refuse HTTPS:// where the gateway takes it.
      .regex(/^([Hh][Tt][Tt][Pp][Ss]?:\/\/\S|\{\{)/, "must be an http:// or https:// URL (Handlebars expressions allowed)")
      // Neither would be sent: a request carries the URL's path and query only (credentials go in a header).
      .refine(
        (url) => !/^https?:\/\/[^/?#]*@/i.test(literalText(url)),
        "user:password in a URL is never sent: put the credentials in an Authorization header instead",
      )
      .refine((url) => !literalText(url).includes("#"), "a #fragment is never sent: leave it out (a # inside a value is written %23)"),
    headers: z.record(headerName, headerValue).superRefine(refuseCaseTwins),
    params: paramsSchema.nullable(),
    body_template: z.string().min(1).max(100_000).nullable(),
    content_type: z
      .string()
      .min(1)
      .max(200)
      // A body is rendered as text and sent as its UTF-8 bytes: another charset would mislabel them.
      .refine((type) => [null, "utf-8", "utf8"].includes(charsetOf(type)), "bodies are sent as UTF-8: name charset=utf-8, or no charset"),
    retries: z.number().int().min(0).max(20),
    delay_seconds: z.number().int().min(0).max(7 * 86_400),
    timeout_ms: z.number().int().min(100).max(MAX_TIMEOUT_MS),
    hangup_causes: z.partialRecord(z.enum(HANGUP_CAUSES), z.string().max(200)),
    signing: z.enum(SIGNINGS),
    secret: z.string().min(8).max(500),
    transport: z.enum(TRANSPORTS),
    // A PATCH may name only the settings it changes; the rule's complete settings are checked when saved.
    sqs: sqsSettingsSchema.partial().strict().nullable(),
  })
  .partial()
  .strict();

/** Defaults of a new rule: PBX Stats' where it has them (3 retries, no delay). */
export const WEBHOOK_DEFAULTS = {
  enabled: true,
  call_types: [] as Direction[],
  source_ids: [] as string[],
  filter: null as string | null,
  preset: null as string | null,
  preset_config: {} as Record<string, unknown>,
  method: "POST_JSON" as Method,
  headers: {} as Record<string, string>,
  params: null as Params | null,
  body_template: null as string | null,
  content_type: "application/json",
  retries: 3,
  delay_seconds: 0,
  timeout_ms: 5_000,
  hangup_causes: {} as Partial<Record<HangupCause, string>>,
  signing: "standard" as Signing,
  transport: "http" as WebhookTransport,
  sqs: null as SqsSettings | null,
};

/** The payload is either `params` or `body_template`, never both. */
export function onePayload(spec: { params?: unknown; body_template?: unknown }): boolean {
  return spec.params == null || spec.body_template == null;
}
const onePayloadError = { message: "give either params or body_template, not both", path: ["body_template"] };

export const patchWebhookSchema = webhookFieldsSchema.refine(onePayload, onePayloadError);
export const createWebhookSchema = webhookFieldsSchema
  .required({ name: true, events: true, url: true })
  .extend({ sqs: sqsSettingsSchema.nullable().optional() })
  .refine(onePayload, onePayloadError);

type Method = (typeof METHODS)[number];
export type Signing = (typeof SIGNINGS)[number];
type WebhookTransport = (typeof TRANSPORTS)[number];
export type Params = z.output<typeof paramsSchema>;
export type WebhookPatch = z.output<typeof patchWebhookSchema>;
/** A complete rule: defaults filled in and a signing secret chosen. */
export type WebhookSpec = typeof WEBHOOK_DEFAULTS & { name: string; events: EventType[]; url: string; secret: string };

/** Who turned a rule off: someone, through the API or the console, or its receiver, answering `410 Gone`. */
const DISABLED_REASONS = ["manual", "gone"] as const;

/** When and why a disabled rule was turned off; a rule enabled again forgets it. */
export const webhookDisabledSchema = z.object({
  at: z.iso.datetime(),
  reason: z.enum(DISABLED_REASONS),
  /** For `gone`: the delivery whose attempt got the answer, and its status. */
  delivery_id: z.string().nullable(),
  status_code: z.number().int().nullable(),
});
export type WebhookDisabled = z.infer<typeof webhookDisabledSchema>;

export interface Webhook extends WebhookSpec {
  id: string;
  /** Null while enabled, and for a rule disabled before the gateway kept this (the reason not known). */
  disabled: WebhookDisabled | null;
  created_at: string;
  updated_at: string;
}

/** The record of a rule turned off by hand at `at`. */
export function disabledByHand(at: string): WebhookDisabled {
  return { at, reason: "manual", delivery_id: null, status_code: null };
}

/** The HTTP verb a rule method sends with: `POST_JSON` is PBX Stats' "Raw Post (JSON)". */
export function httpMethodOf(method: WebhookSpec["method"]): "GET" | "POST" | "PUT" | "PATCH" {
  return method === "POST_JSON" ? "POST" : method;
}


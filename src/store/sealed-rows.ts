import { credentialParams, isSensitiveHeader } from "../domain/mask.js";
import { withParamValuesAsync } from "../domain/url-query.js";
import type { SecretBox } from "../domain/secret-box.js";
import type { Webhook } from "../domain/webhook.js";
import { presetById } from "../presets/registry.js";
import type { DeliveryRow, SourceRow } from "./schema.js";
import type { RenderedRequest } from "../domain/delivery.js";

// Which stored values are secrets: sealed on the way into the database and opened on the way out, so that
// the rest of the code sees plaintext. Only the fields that are sealed are opened: a value that merely looks
// sealed elsewhere (a sealed value copied from a backup into an ordinary header, or a caller name shaped like
// one) stays the text it is, rather than being decrypted for whoever reads the rule or the delivery log.

type Transform = (value: string) => Promise<string>;

async function mapEntries<T>(record: Record<string, T>, map: (name: string, value: T) => Promise<T>): Promise<Record<string, T>> {
  const entries = await Promise.all(Object.entries(record).map(async ([name, value]) => [name, await map(name, value)] as const));
  return Object.fromEntries(entries);
}

function sensitiveHeaders(headers: Record<string, string>, transform: Transform): Promise<Record<string, string>> {
  return mapEntries(headers, (name, value) => (isSensitiveHeader(name) ? transform(value) : Promise.resolve(value)));
}

/** A URL with the credentials of its query sealed or opened in place (`template`: a rule's, see credentialParams). */
function urlCredentials(url: string, template: boolean, transform: Transform): Promise<string> {
  const params = credentialParams(url, template);
  return params.length ? withParamValuesAsync(url, params, ({ value }) => transform(value)) : Promise.resolve(url);
}

/** The secret values a stored request holds: its credential headers' and those in its URL's query. */
export function requestSecrets(request: RenderedRequest): string[] {
  const headers = Object.entries(request.headers).filter(([name]) => isSensitiveHeader(name)).map(([, value]) => value);
  return [...headers, ...credentialParams(request.url, false).map(({ value }) => value)];
}

function presetSecrets(preset: string | null, config: Record<string, unknown>, transform: Transform) {
  const fields = presetById(preset)?.config;
  return mapEntries(config, async (name, value) => (fields?.[name]?.secret && typeof value === "string" ? transform(value) : value));
}

/** SQS settings with their secret access key sealed or opened; the key id and the rest are not secret. */
async function sqsSecret<T extends { secret_access_key: string } | null>(sqs: T, transform: Transform): Promise<T> {
  return sqs === null ? sqs : { ...sqs, secret_access_key: await transform(sqs.secret_access_key) };
}

/** A source, or a change to one, with its secret sealed. */
export async function sealSource<T extends Partial<SourceRow>>(box: SecretBox, source: T): Promise<T> {
  return source.secret === undefined ? source : { ...source, secret: await box.seal(source.secret) };
}

export async function openSource<T extends SourceRow>(box: SecretBox, source: T): Promise<T> {
  return { ...source, secret: await box.open(source.secret) };
}

/** A webhook with each of its secrets sealed or opened: the signing secret, credential headers and query credentials, preset secrets, SQS key. */
async function webhookSecrets(webhook: Webhook, transform: Transform): Promise<Webhook> {
  return {
    ...webhook,
    url: await urlCredentials(webhook.url, true, transform),
    secret: await transform(webhook.secret),
    headers: await sensitiveHeaders(webhook.headers, transform),
    preset_config: await presetSecrets(webhook.preset, webhook.preset_config, transform),
    sqs: await sqsSecret(webhook.sqs, transform),
  };
}

export function sealWebhook(box: SecretBox, webhook: Webhook): Promise<Webhook> {
  return webhookSecrets(webhook, (value) => box.seal(value));
}

export function openWebhook(box: SecretBox, webhook: Webhook): Promise<Webhook> {
  return webhookSecrets(webhook, (value) => box.open(value));
}

/** A request with its credential headers and query credentials sealed or opened. */
async function requestSecretsIn(request: RenderedRequest, transform: Transform): Promise<RenderedRequest> {
  return { ...request, url: await urlCredentials(request.url, false, transform), headers: await sensitiveHeaders(request.headers, transform) };
}

/** A delivery, or a change to one, with the credential headers and query credentials of its request sealed (the rest is what the log shows). */
export async function sealDelivery<T extends Partial<DeliveryRow>>(box: SecretBox, row: T): Promise<T> {
  if (!row.request || requestSecrets(row.request).length === 0) return row;
  return { ...row, request: await requestSecretsIn(row.request, (value) => box.seal(value)) };
}

export async function openDelivery<T extends Pick<DeliveryRow, "request">>(box: SecretBox, row: T): Promise<T> {
  if (!row.request) return row;
  return { ...row, request: await requestSecretsIn(row.request, (value) => box.open(value)) };
}

import type { RenderedRequest } from "../domain/delivery.js";
import { jsonObjectOf } from "../domain/json-object.js";
import { blockedDestinationOf } from "../delivery/address-policy.js";
import { withHeaders } from "../delivery/attempt-headers.js";
import { verdictFor } from "../delivery/policy.js";
import type { TransportReply } from "../delivery/transport.js";
import { joinOrStart, PrepareError, type Judgement, type Prepared, type PresetAuth, type SendContext } from "./send-hooks.js";

// Salesforce REST (research/crm-apis.md): OAuth 2.0 token from {My Domain}/services/oauth2/token, a Task
// per call, SOSL to find the caller. Tokens are cached per rule in this process (on Workers, this isolate)
// and dropped when Salesforce answers 401 INVALID_SESSION_ID; a fetch in flight is shared as `inFlight` allows.

/** REQUEST_LIMIT_EXCEEDED means the org's daily API allowance is spent: wait long before trying again. */
const LIMIT_BACKOFF_MS = 3_600_000;

/** Access tokens by rule and settings version; a settings change makes a new key, so old ones are let go. */
const tokens = new Map<string, string>();
const MAX_CACHED_TOKENS = 500;

/** A token reply is a few hundred bytes, a search reply a list of Ids: neither is read beyond these. */
const TOKEN_REPLY_BYTES = 65_536;
const SEARCH_REPLY_BYTES = 1_048_576;

interface SalesforceError {
  errorCode?: string;
  message?: string;
  fields?: string[];
}

function setting(context: SendContext, name: string): string {
  return String(context.config[name] ?? "");
}

/** `errorCode: message (fields)` from Salesforce's JSON error array, or the start of the text. */
function describeErrors(body: string): string {
  try {
    const errors = JSON.parse(body) as SalesforceError[];
    if (Array.isArray(errors) && errors.length) {
      return errors
        .map((e) => `${e.errorCode ?? "ERROR"}: ${e.message ?? ""}${e.fields?.length ? ` (${e.fields.join(", ")})` : ""}`)
        .join("; ");
    }
  } catch {
    // not JSON: fall through
  }
  return body.slice(0, 300);
}

async function fetchToken(context: SendContext): Promise<string> {
  const refreshToken = setting(context, "refresh_token");
  const form = new URLSearchParams(
    refreshToken
      ? { grant_type: "refresh_token", refresh_token: refreshToken }
      : { grant_type: "client_credentials" },
  );
  form.set("client_id", setting(context, "client_id"));
  form.set("client_secret", setting(context, "client_secret"));
  let response: TransportReply;
  try {
    response = await context.transport.fetch(`${setting(context, "instance_url")}/services/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
      signal: context.signal,
    });
  } catch (error) {
    if (blockedDestinationOf(error)) throw error;
    throw new PrepareError(`Salesforce token request failed: ${(error as Error).message}`, true);
  }
  // Wrong credentials do not fix themselves; a server error, a rate limit or a timeout may, as for any reply.
  const retryable = verdictFor(response.status) === "retry";
  const text = await response.text(TOKEN_REPLY_BYTES);
  if (text === null) {
    throw new PrepareError(`Salesforce token request failed: ${response.status} with a reply over ${TOKEN_REPLY_BYTES} bytes (not read)`, retryable, response.headers.get("retry-after"));
  }
  const reply = (jsonObjectOf(text) ?? {}) as { access_token?: string; error?: string; error_description?: string };
  if (!response.ok || !reply.access_token) {
    const reason = reply.error ? `${reply.error}: ${reply.error_description ?? ""}` : text.slice(0, 200);
    throw new PrepareError(`Salesforce token request failed: ${response.status} ${reason}`, retryable, response.headers.get("retry-after"));
  }
  return reply.access_token;
}

function remember(cacheKey: string, token: string): void {
  if (!tokens.has(cacheKey) && tokens.size >= MAX_CACHED_TOKENS) tokens.delete(tokens.keys().next().value!);
  tokens.set(cacheKey, token);
}

/** The rule's access token: cached, else fetched once for the attempts that may share it; `fetched` when this attempt did. */
async function tokenFor(context: SendContext): Promise<{ token: string; fetched: boolean }> {
  const cached = tokens.get(context.cacheKey);
  if (cached !== undefined) return { token: cached, fetched: false };
  const { work, started } = joinOrStart(context.inFlight, `salesforce token ${context.cacheKey}`, async () => {
    const token = await fetchToken(context);
    remember(context.cacheKey, token);
    return token;
  });
  return { token: await work, fetched: started };
}

/** SOSL reserves these characters; a phone number's `+` among them. */
function soslEscape(text: string): string {
  return text.replace(/[?&|!{}[\]()^~*:\\"'+-]/g, (ch) => `\\${ch}`);
}

/** The Contact (else Lead) whose phone matches, by SOSL; null when none does. */
async function findCaller(phone: string, token: string, context: SendContext) {
  const sosl = `FIND {${soslEscape(phone)}} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)`;
  const url = `${setting(context, "instance_url")}/services/data/v${setting(context, "api_version")}/search/?q=${encodeURIComponent(sosl)}`;
  const response = await context.transport.fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    signal: context.signal,
  });
  const text = await response.text(SEARCH_REPLY_BYTES);
  if (text === null) return { status: response.status, error: `the reply is over ${SEARCH_REPLY_BYTES} bytes (not read)` };
  if (!response.ok) return { status: response.status, error: describeErrors(text) };
  // Not JSON (a proxy's page, say): said without the parser's message, which would quote the reply.
  const reply = jsonObjectOf(text) as { searchRecords?: Array<{ Id: string; attributes?: { type?: string } }> } | null;
  if (!reply) return { status: response.status, error: "the reply is not a JSON object" };
  const records = Array.isArray(reply.searchRecords) ? reply.searchRecords : [];
  const match = records.find((r) => r.attributes?.type === "Contact") ?? records.find((r) => r.attributes?.type === "Lead");
  return { status: response.status, match: match ? { id: match.Id, type: match.attributes?.type ?? "record" } : null };
}

/**
 * The Task with `"WhoId":"<id>"` as its first member, unless it has one; the rest of the body is sent byte
 * for byte as rendered, previewed and logged. Null when the body is no JSON object.
 */
function withWhoId(request: RenderedRequest, whoId: string): RenderedRequest | null {
  const body = request.body ?? "{}";
  const task = jsonObjectOf(body);
  if (!task) return null;
  if ("WhoId" in task) return request;
  const open = body.indexOf("{") + 1;
  const member = `"WhoId":${JSON.stringify(whoId)}${Object.keys(task).length ? "," : ""}`;
  return { ...request, body: body.slice(0, open) + member + body.slice(open) };
}

async function prepare(request: RenderedRequest, context: SendContext, renewed = false): Promise<Prepared> {
  const notes: string[] = [];
  const { token, fetched } = await tokenFor(context);
  if (fetched) notes.push("access token fetched");
  let prepared: RenderedRequest = { ...request, headers: withHeaders(request.headers, { authorization: `Bearer ${token}` }) };

  const phone = request.meta?.caller_phone;
  if (context.config.find_caller !== false && phone) {
    try {
      const found = await findCaller(phone, token, context);
      if (found.status === 401) {
        // The cached session expired: once, fetch a new token and start again.
        tokens.delete(context.cacheKey);
        if (!renewed) return prepare(request, context, true);
        throw new PrepareError("Salesforce search: 401 even with a new token", true);
      }
      if (found.error) notes.push(`caller lookup failed (${found.status}): ${found.error}`);
      else if (found.match) {
        const linked = withWhoId(prepared, found.match.id);
        if (linked) prepared = linked;
        notes.push(linked ? `WhoId ${found.match.id} (${found.match.type} with phone ${phone})` : "WhoId not added: the body is not a JSON object");
      } else notes.push(`no Contact or Lead with phone ${phone}`);
    } catch (error) {
      if (error instanceof PrepareError) throw error;
      notes.push(`caller lookup failed: ${(error as Error).message}`);
    }
  }
  return { request: prepared, notes };
}

/** Errors explained from Salesforce's error array; the daily API limit waits an hour. */
function judge(status: number, body: string): Judgement | null {
  if (status < 400) return null;
  const error = `HTTP ${status} ${describeErrors(body)}`;
  if (status === 403 && body.includes("REQUEST_LIMIT_EXCEEDED")) {
    return { verdict: "retry", retryAfterMs: LIMIT_BACKOFF_MS, error };
  }
  return { verdict: verdictFor(status), error };
}

export const salesforceAuth: PresetAuth = {
  prepare,
  expired(status, body, context) {
    const expired = status === 401 && body.includes("INVALID_SESSION_ID");
    if (expired) tokens.delete(context.cacheKey);
    return expired;
  },
  judge,
  previewHeaders: { authorization: "Bearer ****" },
};

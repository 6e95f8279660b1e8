import { isoAt, type Clock } from "../clock.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { ID_PREFIX, newId } from "../domain/ids.js";
import { headerSecrets, urlSecrets, withoutSecrets } from "../domain/mask.js";
import { utf8Prefix, withoutNul } from "../domain/utf8.js";
import type { Webhook } from "../domain/webhook.js";
import { authOf } from "../presets/auth.js";
import { PrepareError, type InFlight, type Judgement, type PresetAuth, type SendContext } from "../presets/send-hooks.js";
import { secretValues } from "../presets/config.js";
import { presetById } from "../presets/registry.js";
import { revealSecrets } from "../presets/secrets.js";
import { bodyEscapeModeOf } from "../render/request.js";
import type { AttemptRow } from "../store/schema.js";
import type { Preset } from "../presets/schema.js";
import { blockedDestinationOf } from "./address-policy.js";
import { madeForElsewhere } from "./destination.js";
import { changedCredential, withRuleCredentials } from "./rule-credentials.js";
import { attemptHeaders } from "./attempt-headers.js";
import { requestRefused, retryAfterMs, verdictFor, type Verdict } from "./policy.js";
import { judgeSqsReply, messageAttributes, sendMessageInput, sendSqsMessage } from "./sqs.js";
import { RESPONSE_EXCERPT_BYTES, type Transport } from "./transport.js";

export interface AttemptOutcome {
  row: AttemptRow;
  verdict: Verdict;
  retryAfterMs: number | null;
}

interface AttemptDeps {
  transport: Transport;
  clock: Clock;
  /** Ends the request early when the gateway stops. */
  signal?: AbortSignal;
  /** What attempts may share while it is in flight (see InFlight); without it, an attempt shares nothing. */
  inFlight?: InFlight;
}

type SendingRule = Pick<
  Webhook,
  | "id"
  | "updated_at"
  | "url"
  | "headers"
  | "transport"
  | "signing"
  | "secret"
  | "timeout_ms"
  | "preset"
  | "preset_config"
  | "sqs"
  | "method"
  | "body_template"
  | "content_type"
>;

interface Reply {
  status: number;
  headers: Headers;
  /** As much of the body as the preset's judge reads (the excerpt, unless it asks for more). */
  body: string;
  /** The start of the body the attempt log keeps. */
  excerpt: string;
}

function describeFailure(error: unknown, timeoutMs: number, stopping?: AbortSignal): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (stopping?.aborted) return "interrupted: the gateway stopped during the attempt";
  if (e instanceof PrepareError) return e.message;
  const blocked = blockedDestinationOf(e);
  if (blocked) return blocked.message;
  if (e.name === "TimeoutError" || e.name === "AbortError") return `timed out after ${timeoutMs} ms`;
  // The client's reason names what it refused ("invalid x-key header"); its code alone does not.
  if (requestRefused(e)) return `${e.message}: ${e.cause?.message} (${e.cause?.code})`;
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message}: ${cause}` : e.message;
}

function attemptRow(deliveryId: string, number: number, startedMs: number): AttemptRow {
  return {
    id: newId(ID_PREFIX.attempt, startedMs),
    delivery_id: deliveryId,
    number,
    started_at: isoAt(startedMs),
    duration_ms: 0,
    status_code: null,
    response_headers: null,
    response_body: null,
    error: null,
    note: null,
  };
}

/**
 * The signal of one attempt: aborted after `timeoutMs` (a TimeoutError, as AbortSignal.timeout's) or when the
 * gateway stops. One controller and one timer, which `done` clears: AbortSignal.any costs more per request.
 */
function attemptSignal(timeoutMs: number, stopping?: AbortSignal): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
  const stop = () => controller.abort(stopping!.reason);
  if (stopping?.aborted) stop();
  else stopping?.addEventListener("abort", stop, { once: true });
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      stopping?.removeEventListener("abort", stop);
    },
  };
}

/** A reply's status as an attempt error; a redirect says where to, as deliveries do not follow one. */
function httpError(reply: Reply): string {
  const location = reply.status >= 300 && reply.status < 400 ? reply.headers.get("location") : null;
  return location ? `HTTP ${reply.status}: redirect to ${location} not followed (set the rule's URL to it)` : `HTTP ${reply.status}`;
}

/**
 * A request made for another destination than the rule's now (its URL or a URL setting changed since) is not
 * sent: the secrets and preset credentials filled in when sending are those given for the new one.
 */
async function refuseMovedDestination(request: RenderedRequest, rule: SendingRule, preset: Preset | undefined): Promise<void> {
  if (!(await madeForElsewhere(request, rule, preset))) return;
  throw new PrepareError(
    "not sent: the rule sends elsewhere since this delivery was made (its URL or a URL setting changed), and its credentials go only where they were given for; retried by hand, it is made anew for where the rule sends now",
    false,
  );
}

/**
 * A request with a credential header or query credential the rule no longer gives as a fixed value is not sent:
 * it would go without it, or with the placeholder that stands for it.
 */
function refuseChangedCredentials(request: RenderedRequest, rule: SendingRule): void {
  const what = changedCredential(request, rule);
  if (what === null) return;
  throw new PrepareError(
    `not sent: the rule's ${what} changed since this delivery was made (removed, or written with a template), and a delivery sends the rule's credentials as they are; retried by hand, it is made anew from the rule as it is now`,
    false,
  );
}

/** The attempt row for a delivery that never got as far as sending: its rule could not be rendered. */
export function renderFailure(deliveryId: string, error: string, nowMs: number): AttemptRow {
  return { ...attemptRow(deliveryId, 1, nowMs), error: `render failed: ${error}` };
}

/** One send: the preset's preparation, this attempt's signature, the request, the start of the reply. */
async function sendOnce(
  request: RenderedRequest,
  messageId: string,
  rule: SendingRule,
  auth: PresetAuth,
  context: SendContext,
  notes: string[],
  secrets: string[],
  nowMs: number,
): Promise<Reply> {
  const prepared = auth.prepare ? await auth.prepare(request, context) : { request, notes: [] };
  notes.push(...prepared.notes);
  const { method, url, body } = prepared.request;
  const headers = await attemptHeaders(prepared.request, rule, messageId, nowMs);
  // The rule's and the preset's credentials; the gateway's own signature is no secret.
  secrets.push(...headerSecrets(prepared.request.headers), ...urlSecrets(url));
  // The stored request decides, not the rule's current transport: a rule changed since keeps its deliveries' shape.
  const response = prepared.request.sqs
    ? await sendSqsMessage(context.transport, sendMessageInput(prepared.request, messageAttributes(headers), messageId), rule.sqs, nowMs, context.signal)
    : await context.transport.fetch(url, { method, headers, body, signal: context.signal });
  // The status line decides the outcome; a body that stalls or breaks off after it only leaves the excerpt short.
  const read = await response.excerpt(auth.replyBytes ?? RESPONSE_EXCERPT_BYTES).catch((error: unknown) => {
    notes.push(`response body not read: ${describeFailure(error, rule.timeout_ms)}`);
    return "";
  });
  return { status: response.status, headers: response.headers, body: read, excerpt: utf8Prefix(read, RESPONSE_EXCERPT_BYTES) };
}

/** Whether a reply delivered: SQS's answer for a message, else the preset's judge, else the status code. */
function judgementOf(reply: Reply, request: RenderedRequest, auth: PresetAuth): Judgement {
  if (request.sqs) return judgeSqsReply(reply.status, reply.headers, reply.excerpt);
  return auth.judge?.(reply.status, reply.body) ?? { verdict: verdictFor(reply.status) };
}

/**
 * A send that threw: retried, unless it cannot succeed as things stand. A refused destination stays refused
 * until the rule or OUTBOUND_ALLOW changes, a request the HTTP client refuses until the rule changes.
 */
function failureVerdict(error: unknown): Verdict {
  const permanent = (error instanceof PrepareError && !error.retryable) || blockedDestinationOf(error) !== null || requestRefused(error);
  return permanent ? "fail" : "retry";
}

/**
 * The attempt's record without the secrets it sent (a receiver may echo them: an error quoting the request), and
 * with a U+0000 the reply had kept as U+FFFD, so that it is read back whole (see withoutNul).
 */
function recordable(row: AttemptRow, secrets: string[]): AttemptRow {
  const hide = (text: string | null) => (text === null ? null : withoutNul(secrets.length ? withoutSecrets(text, secrets) : text));
  const headers = row.response_headers && Object.fromEntries(Object.entries(row.response_headers).map(([name, value]) => [name, hide(value)!]));
  return { ...row, response_headers: headers, response_body: hide(row.response_body), error: hide(row.error), note: hide(row.note) };
}

/**
 * Sends the stored request once, within the rule's timeout: secrets and credential headers filled in as the
 * rule has them now, the preset's credentials added (and renewed once if the reply says they expired), signed
 * for this attempt. Never throws.
 */
export async function sendAttempt(
  delivery: { id: string; request: RenderedRequest },
  number: number,
  rule: SendingRule,
  deps: AttemptDeps,
): Promise<AttemptOutcome> {
  const started = deps.clock.now();
  // Durations are measured, not scheduled: real monotonic time even when the clock is a test's.
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  const row = attemptRow(delivery.id, number, started);
  const preset = presetById(rule.preset);
  const auth = authOf(preset);
  const signal = attemptSignal(rule.timeout_ms, deps.signal);
  const context: SendContext = {
    cacheKey: `${rule.id}@${rule.updated_at}`,
    config: rule.preset_config,
    transport: deps.transport,
    signal: signal.signal,
    inFlight: deps.inFlight ?? new Map(),
  };
  const notes: string[] = [];
  const note = () => (notes.length ? notes.join("; ") : null);
  const presetSecrets = secretValues(preset, rule.preset_config);
  const secrets = Object.values(presetSecrets);
  try {
    await refuseMovedDestination(delivery.request, rule, preset);
    refuseChangedCredentials(delivery.request, rule);
    // Escaped as rendered; a request stored before that was kept is escaped as the rule renders now.
    const escape = delivery.request.secrets_escape ?? bodyEscapeModeOf(rule);
    const request = revealSecrets(withRuleCredentials(delivery.request, rule), presetSecrets, escape);
    let reply = await sendOnce(request, delivery.id, rule, auth, context, notes, secrets, started);
    if (auth.expired?.(reply.status, reply.body, context)) {
      notes.push(`credentials expired (HTTP ${reply.status}): renewed and sent again`);
      reply = await sendOnce(request, delivery.id, rule, auth, context, notes, secrets, deps.clock.now());
    }
    const judged = judgementOf(reply, request, auth);
    const ok = judged.verdict === "delivered";
    const replied = {
      ...row,
      duration_ms: elapsed(),
      status_code: reply.status,
      response_headers: Object.fromEntries(reply.headers),
      response_body: reply.excerpt,
      error: ok ? null : (judged.error ?? httpError(reply)),
      note: note(),
    };
    return {
      row: recordable(replied, secrets),
      verdict: judged.verdict,
      retryAfterMs: judged.retryAfterMs ?? retryAfterMs(reply.headers.get("retry-after"), deps.clock.now()),
    };
  } catch (error) {
    const failed = { ...row, duration_ms: elapsed(), error: describeFailure(error, rule.timeout_ms, deps.signal), note: note() };
    const retryAfter = error instanceof PrepareError ? retryAfterMs(error.retryAfter, deps.clock.now()) : null;
    return { row: recordable(failed, secrets), verdict: failureVerdict(error), retryAfterMs: retryAfter };
  } finally {
    signal.done();
  }
}

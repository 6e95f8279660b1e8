import { isoAt, type Clock } from "../clock.js";
import type { RenderedRequest } from "../domain/delivery.js";
import { ID_PREFIX, newId } from "../domain/ids.js";
import type { Webhook } from "../domain/webhook.js";
import type { AttemptRow } from "../store/schema.js";
import { retryAfterMs, verdictFor, type Verdict } from "./policy.js";
import { signatureHeaders } from "./signing.js";
import { readExcerpt, type Transport } from "./transport.js";

export interface AttemptOutcome {
  row: AttemptRow;
  verdict: Verdict;
  retryAfterMs: number | null;
}

export interface AttemptDeps {
  transport: Transport;
  clock: Clock;
  /** Ends the request early when the gateway stops. */
  signal?: AbortSignal;
}

type SigningRule = Pick<Webhook, "signing" | "secret" | "timeout_ms">;

function describeFailure(error: unknown, timeoutMs: number, signal?: AbortSignal): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (signal?.aborted) return "interrupted: the gateway stopped during the attempt";
  if (e.name === "TimeoutError" || e.name === "AbortError") return `timed out after ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message}: ${cause}` : e.message;
}

/** The attempt row for a delivery that never got as far as sending: its rule could not be rendered. */
export function renderFailure(deliveryId: string, error: string, nowMs: number): AttemptRow {
  return {
    id: newId(ID_PREFIX.attempt, nowMs),
    delivery_id: deliveryId,
    number: 1,
    started_at: isoAt(nowMs),
    duration_ms: 0,
    status_code: null,
    response_headers: null,
    response_body: null,
    error: `render failed: ${error}`,
  };
}

/** Sends the stored request once, signed for this attempt, within the rule's timeout; never throws. */
export async function sendAttempt(
  delivery: { id: string; request: RenderedRequest },
  number: number,
  rule: SigningRule,
  deps: AttemptDeps,
): Promise<AttemptOutcome> {
  const started = deps.clock.now();
  // Durations are measured, not scheduled: real monotonic time even when the clock is a test's.
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  const { method, url, headers, body } = delivery.request;
  const base: AttemptRow = {
    id: newId(ID_PREFIX.attempt, started),
    delivery_id: delivery.id,
    number,
    started_at: isoAt(started),
    duration_ms: 0,
    status_code: null,
    response_headers: null,
    response_body: null,
    error: null,
  };
  try {
    const signature = await signatureHeaders({
      signing: rule.signing,
      secret: rule.secret,
      messageId: delivery.id,
      timestampSeconds: Math.floor(started / 1000),
      body: body ?? "",
    });
    const response = await deps.transport.fetch(url, {
      method,
      headers: { ...headers, ...signature },
      body,
      redirect: "manual",
      signal: deps.signal ? AbortSignal.any([deps.signal, AbortSignal.timeout(rule.timeout_ms)]) : AbortSignal.timeout(rule.timeout_ms),
    });
    const excerpt = await readExcerpt(response);
    const row: AttemptRow = {
      ...base,
      duration_ms: elapsed(),
      status_code: response.status,
      response_headers: Object.fromEntries(response.headers),
      response_body: excerpt,
      error: response.ok ? null : `HTTP ${response.status}`,
    };
    return {
      row,
      verdict: verdictFor(response.status),
      retryAfterMs: retryAfterMs(response.headers.get("retry-after"), deps.clock.now()),
    };
  } catch (error) {
    const row = { ...base, duration_ms: elapsed(), error: describeFailure(error, rule.timeout_ms, deps.signal) };
    return { row, verdict: "retry", retryAfterMs: null };
  }
}

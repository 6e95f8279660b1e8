// What to do after an attempt, as pure data and functions: the same policy drives the in-process
// dispatcher on Node and the queue consumer on Workers.

export interface RetrySchedule {
  /** Delay before the first retry; each later retry waits `factor` times longer, up to `maxDelayMs`. */
  baseDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** Spread each delay by up to this fraction either way, so that retries of a burst do not arrive together. */
  jitter: number;
}

/** 5 s, 30 s, 3 min, 18 min, 1.8 h, 10.8 h, then daily: close to the Standard Webhooks schedule. */
export const DEFAULT_SCHEDULE: RetrySchedule = {
  baseDelayMs: 5_000,
  factor: 6,
  maxDelayMs: 24 * 3_600_000,
  jitter: 0.2,
};

export type Verdict = "delivered" | "retry" | "fail" | "gone";

/** Statuses in the 4xx range that are worth sending again. */
const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

/** `status` is null when no response came back (network error, timeout). */
export function verdictFor(status: number | null): Verdict {
  if (status === null) return "retry";
  if (status >= 200 && status < 300) return "delivered";
  if (status === 410) return "gone";
  if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) return "fail";
  return "retry";
}

/**
 * undici's codes for a request it will not send as given (a header value it refuses, an option it does not
 * support): the same stored request would be refused on every retry.
 */
const REFUSED_REQUEST_CODES = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]);

/** Whether a transport error is the HTTP client refusing the request itself, rather than a failure on the way. */
export function requestRefused(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === "string" && REFUSED_REQUEST_CODES.has(code);
}

/**
 * What an SQS error means for the delivery. SQS answers most errors with HTTP 400, throttling included, so
 * the code decides: a pause (throttling, a service hiccup) is retried; bad credentials, a missing queue or
 * a message SQS refuses would be refused again, as 401/403/404/400 are for HTTP. Codes are written without
 * namespace, `AWS.SimpleQueueService.` prefix or `Exception` suffix, covering the JSON and Query spellings.
 */
export const SQS_ERROR_VERDICTS: Readonly<Record<string, Verdict>> = {
  Throttling: "retry",
  RequestThrottled: "retry",
  KmsThrottled: "retry",
  OverLimit: "retry",
  ServiceUnavailable: "retry",
  InternalFailure: "retry",
  InternalError: "retry",
  RequestTimeout: "retry",
  InvalidClientTokenId: "fail",
  UnrecognizedClient: "fail",
  SignatureDoesNotMatch: "fail",
  InvalidSignature: "fail",
  IncompleteSignature: "fail",
  MissingAuthenticationToken: "fail",
  AccessDenied: "fail",
  InvalidSecurity: "fail",
  NonExistentQueue: "fail",
  QueueDoesNotExist: "fail",
  InvalidAddress: "fail",
  InvalidParameterValue: "fail",
  MissingParameter: "fail",
  MissingRequiredParameter: "fail",
  InvalidMessageContents: "fail",
  InvalidAttributeName: "fail",
  InvalidAttributeValue: "fail",
  UnsupportedOperation: "fail",
  KmsAccessDenied: "fail",
  KmsDisabled: "fail",
  KmsNotFound: "fail",
  KmsInvalidState: "fail",
  KmsInvalidKeyUsage: "fail",
  KmsOptInRequired: "fail",
};

/** An SQS error code as the table above writes it: `com.amazonaws.sqs#QueueDoesNotExist` -> `QueueDoesNotExist`. */
function normalizeSqsCode(code: string): string {
  return code
    .replace(/^.*#/, "")
    .replace(/^AWS\.SimpleQueueService\./, "")
    .replace(/Exception$/, "");
}

/** The verdict for an SQS reply: its error code where the table knows it, else its status as for HTTP. */
export function sqsVerdictFor(status: number | null, code: string | null): Verdict {
  const known = code === null ? undefined : SQS_ERROR_VERDICTS[normalizeSqsCode(code)];
  if (known && status !== null && (status < 200 || status >= 300)) return known;
  return verdictFor(status);
}

/** Delay before retry number `retry` (1 for the first retry); `random` in [0, 1). */
export function backoffMs(retry: number, schedule: RetrySchedule, random: number): number {
  const base = Math.min(schedule.maxDelayMs, schedule.baseDelayMs * schedule.factor ** (retry - 1));
  const spread = 1 + schedule.jitter * (2 * random - 1);
  return Math.round(Math.min(schedule.maxDelayMs, base * spread));
}

/**
 * `Retry-After` as milliseconds from now: delta-seconds or an HTTP date; null when absent or unreadable, so
 * that the backoff applies. Every HTTP date starts with a day name: anything else (`1.5`, `-1`) is no date,
 * although `Date.parse` would read one into it.
 */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  if (!/^[A-Za-z]/.test(trimmed)) return null;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** The wait before the next attempt: the receiver's `Retry-After` when it gave one, else the backoff. */
function nextDelayMs(
  retry: number,
  schedule: RetrySchedule,
  retryAfter: number | null,
  random: number,
): number {
  if (retryAfter !== null) return Math.min(retryAfter, schedule.maxDelayMs);
  return backoffMs(retry, schedule, random);
}

export type NextStep =
  | { kind: "delivered" }
  | { kind: "retry"; delayMs: number }
  | { kind: "failed"; reason: string }
  | { kind: "gone" };

/**
 * After attempt number `attemptsMade` of at most `maxAttempts`, both counted within the delivery's current
 * retry budget (a retry by hand starts a new one): done, wait and retry, or give up.
 */
export function nextStep(
  verdict: Verdict,
  attemptsMade: number,
  maxAttempts: number,
  retryAfter: number | null,
  schedule: RetrySchedule,
  random: number,
): NextStep {
  if (verdict === "delivered") return { kind: "delivered" };
  if (verdict === "gone") return { kind: "gone" };
  if (verdict === "fail") return { kind: "failed", reason: "not retryable" };
  if (attemptsMade >= maxAttempts) return { kind: "failed", reason: "retries exhausted" };
  return { kind: "retry", delayMs: nextDelayMs(attemptsMade, schedule, retryAfter, random) };
}

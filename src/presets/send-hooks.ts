import type { RenderedRequest } from "../domain/delivery.js";
import type { Verdict } from "../delivery/policy.js";
import type { Transport } from "../delivery/transport.js";

// What a preset may do around each attempt (see auth.ts for which preset does what): the contract between
// the delivery attempt and the presets, apart from both so that neither imports the other's insides.

/**
 * Work in flight that attempts may join rather than start again (a token being fetched), by key. Node shares
 * one for the process. On Workers each invocation has its own: an invocation awaiting I/O that another one
 * started waits for ever if that one ends first (workerd never settles it), and would get its errors anyway.
 */
export type InFlight = Map<string, Promise<unknown>>;

/** What a preset's per-attempt behaviour may use: the rule's real settings and the runtime's transport. */
export interface SendContext {
  /** Identifies the rule's current settings, so cached credentials follow a change of settings. */
  cacheKey: string;
  config: Record<string, unknown>;
  transport: Transport;
  signal: AbortSignal;
  inFlight: InFlight;
}

/** The work in flight under `key`, joined, else `start()`'s, shared until it settles; `started` when this call started it. */
export function joinOrStart<T>(inFlight: InFlight, key: string, start: () => Promise<T>): { work: Promise<T>; started: boolean } {
  const pending = inFlight.get(key) as Promise<T> | undefined;
  if (pending) return { work: pending, started: false };
  const work = start().finally(() => inFlight.delete(key));
  inFlight.set(key, work);
  return { work, started: true };
}

export interface Prepared {
  request: RenderedRequest;
  /** What was done, for the attempt log (e.g. "access token fetched", "WhoId 003... (Contact)"). */
  notes: string[];
}

/** How a preset reads a reply the generic policy would misjudge; null leaves it to the policy. */
export interface Judgement {
  verdict: Verdict;
  retryAfterMs?: number | null;
  error?: string | null;
}

/**
 * A step before sending that failed (e.g. the token endpoint refused); `retryable` says whether to try again
 * later, and `retryAfter` is the `Retry-After` header of the reply that said so, if it gave one.
 */
export class PrepareError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfter: string | null = null,
  ) {
    super(message);
    this.name = "PrepareError";
  }
}

/** A preset's behaviour around each attempt; every part optional. */
export interface PresetAuth {
  /** Adds credentials and the like to the request just before it is sent. */
  prepare?(request: RenderedRequest, context: SendContext): Promise<Prepared>;
  /** True when the reply says the credentials expired: they are dropped and the attempt is sent once more. */
  expired?(status: number, body: string, context: SendContext): boolean;
  judge?(status: number, body: string): Judgement | null;
  /**
   * How much of a reply `judge` and `expired` read, when they need more than the attempt log keeps (a JSON
   * answer parsed whole); the log keeps its first RESPONSE_EXCERPT_BYTES all the same.
   */
  replyBytes?: number;
  /** Headers a preview shows in place of what `prepare` adds (masked). */
  previewHeaders?: Record<string, string>;
}

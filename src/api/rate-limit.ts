import type { Context } from "hono";
import type { Clock } from "../clock.js";
import { GatewayError } from "../domain/errors.js";

/** A token bucket's shape: `burst` tokens at most, refilled at `perSecond`. */
interface Rate {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Keys tracked at most; beyond this, full buckets (which equal no bucket) and then the oldest are dropped. */
const MAX_KEYS = 10_000;

/**
 * In-memory token buckets by key (a source id, a client address). Web-standard only: on Node one per process;
 * on Cloudflare Workers one per isolate, so a limit there holds per isolate, not across the deployment.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: Rate,
    private readonly clock: Clock,
  ) {}

  /** Takes a token for `key`: 0 when one was there, else the milliseconds until one will be (none taken). */
  take(key: string): number {
    const bucket = this.refilled(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.rate.perSecond) * 1000);
  }

  /** Puts back a token taken for `key` (up to the burst): what it was held against did not happen. */
  giveBack(key: string): void {
    const bucket = this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.rate.burst, bucket.tokens + 1);
  }

  private tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.rate.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.rate.perSecond);
  }

  private refilled(key: string): Bucket {
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = this.tokensAt(bucket, now);
      bucket.at = now;
      return bucket;
    }
    if (this.buckets.size >= MAX_KEYS) this.prune(now);
    bucket = { tokens: this.rate.burst, at: now };
    this.buckets.set(key, bucket);
    return bucket;
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.tokensAt(bucket, now) >= this.rate.burst) this.buckets.delete(key);
    }
    while (this.buckets.size >= MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/** The gateway's rate limits: verified ingest requests per source, and wrong admin tokens per client address. */
export interface RateLimits {
  ingest: Rate;
  adminAuthFailures: Rate;
}

/** Generous for a busy call centre (a PBX may flush a backlog in a burst); ten wrong admin tokens a minute. */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  ingest: { perSecond: 200, burst: 1_000 },
  adminAuthFailures: { perSecond: 10 / 60, burst: 10 },
};

/** 429 with `Retry-After` (whole seconds) when `waitMs` says the caller must wait. */
export function refuseWhileLimited(c: Context, waitMs: number, message: string): void {
  if (waitMs <= 0) return;
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  c.header("Retry-After", String(seconds));
  throw new GatewayError(429, "rate_limited", `${message}; retry after ${seconds} s`, { retry_after_seconds: seconds });
}

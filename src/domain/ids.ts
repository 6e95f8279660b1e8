import { randomBytes, toBase64 } from "./crypto.js";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export const ID_PREFIX = {
  source: "src",
  webhook: "wh",
  event: "evt",
  delivery: "dlv",
  attempt: "att",
} as const;

/** What an id with this prefix looks like: the prefix, then 26 base-32 digits (see newId). */
export function idPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix}_[${CROCKFORD}]{26}$`);
}

/** Random bytes drawn a block at a time: one call for the random part of many ids. */
const RANDOM_BLOCK = 4096;
let randomBlock: Uint8Array = new Uint8Array(0);
let randomOffset = 0;

function sixteenRandomBytes(): Uint8Array {
  if (randomOffset + 16 > randomBlock.length) {
    randomBlock = randomBytes(RANDOM_BLOCK);
    randomOffset = 0;
  }
  randomOffset += 16;
  return randomBlock.subarray(randomOffset - 16, randomOffset);
}

let lastTime = -1;
let lastRandom: number[] = [];

/** 16 random base-32 digits, or the previous ones plus one when the millisecond has not changed. */
function randomPart(time: number): number[] {
  if (time === lastTime) {
    const next = [...lastRandom];
    for (let i = next.length - 1; i >= 0; i--) {
      if (++next[i] < 32) break;
      next[i] = 0;
    }
    return next;
  }
  return Array.from(sixteenRandomBytes(), (b) => b % 32);
}

/**
 * A ULID-style id: 10 characters of millisecond time then 16 random ones, monotonic within a process, so
 * ids sort by creation (the cursor of every list) and never collide across processes.
 */
export function newId(prefix: string, nowMs: number): string {
  const time = Math.max(nowMs, lastTime);
  lastRandom = randomPart(time);
  lastTime = time;
  return `${prefix}_${timeText(time)}${lastRandom.map((d) => CROCKFORD[d]).join("")}`;
}

/** The millisecond as the 10 base-32 digits that start an id. */
function timeText(time: number): string {
  let text = "";
  for (let i = 0, t = time; i < 10; i++, t = Math.floor(t / 32)) text = CROCKFORD[t % 32] + text;
  return text;
}

/** The lowest id a record created at `ms` can have: every id created earlier sorts before it. */
export function firstIdAt(prefix: string, ms: number): string {
  return `${prefix}_${timeText(ms)}${CROCKFORD[0].repeat(16)}`;
}

/** A secret token: URL-safe, 32 random bytes. */
export function newSecret(prefix = ""): string {
  return prefix + toBase64(randomBytes(32)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A Standard Webhooks signing secret: `whsec_` and base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(randomBytes(24))}`;
}

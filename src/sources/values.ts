import { GatewayError } from "../domain/errors.js";

// PBX payloads are loose: numbers arrive as strings, absent values as "". These read them the same way everywhere.

/** A non-empty string, or null. */
export function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value).trim();
  return s === "" ? null : s;
}

/** A whole non-negative number from a number or numeric string, or null. */
export function seconds(value: unknown): number | null {
  const s = text(value);
  if (s === null || !/^\d+(\.\d+)?$/.test(s)) return null;
  const n = Math.round(Number(s));
  return Number.isSafeInteger(n) ? n : null;
}

/** Years 1 to 9999: what ISO 8601 without an expanded year can say. */
const MIN_TIME = Date.parse("0001-01-01T00:00:00Z");
const MAX_TIME = Date.parse("9999-12-31T23:59:59.999Z");

/** An ISO 8601 time in UTC from a date string or epoch milliseconds, or null when absent or unreadable. */
export function isoTime(value: unknown): string | null {
  const ms = typeof value === "number" ? value : Date.parse(text(value) ?? "");
  return Number.isFinite(ms) && ms >= MIN_TIME && ms <= MAX_TIME ? new Date(ms).toISOString() : null;
}

/** Whole seconds from one ISO time to another, or null. */
export function secondsBetween(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

/** The ISO time `s` seconds after `iso`, or null when that is beyond what a date can say. */
export function plusSeconds(iso: string, s: number): string | null {
  return isoTime(Date.parse(iso) + s * 1000);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What a JSON value is, for an error that says what came instead of an object: "an array", "null", "a string". */
export function jsonKindOf(value: unknown): string {
  return Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`;
}

/** The payload when it is one JSON object; otherwise a 400 saying what `expected` is and what came instead. */
export function oneObject(payload: unknown, expected: string): Record<string, unknown> {
  if (isRecord(payload)) return payload;
  throw new GatewayError(400, "invalid_request", `${expected}; got ${jsonKindOf(payload)}`);
}

/** Whole seconds from a clock-style duration "HH:MM:SS" (or "MM:SS"), or null. Also reads a time of day as seconds since midnight. */
export function hmsSeconds(value: unknown): number | null {
  const match = /^(\d+):([0-5]?\d)(?::([0-5]?\d))?$/.exec(text(value) ?? "");
  if (!match) return null;
  const [, first, second, third] = match;
  return third === undefined ? Number(first) * 60 + Number(second) : Number(first) * 3600 + Number(second) * 60 + Number(third);
}

/** An http(s) URL, or null (recording links arrive as "", placeholders or other schemes). */
export function httpUrl(value: unknown): string | null {
  const s = text(value);
  if (s === null || s.length > 2048) return null;
  try {
    const url = new URL(s);
    return url.protocol === "http:" || url.protocol === "https:" ? s : null;
  } catch {
    return null;
  }
}

/**
 * A short, stable fingerprint of a payload that carries no id of its own, for its dedupe key: two
 * independent 32-bit FNV-1a hashes and the length, so that distinct payloads practically never collide.
 */
export function fingerprint(payload: unknown): string {
  const json = JSON.stringify(payload) ?? "";
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ json.length;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return `${(a >>> 0).toString(16).padStart(8, "0")}${(b >>> 0).toString(16).padStart(8, "0")}:${json.length}`;
}

/** The call's agent from whatever the PBX gave of them; null when it gave nothing. */
export function agentOf(name: string | null, extension: string | null) {
  return name === null && extension === null ? null : { name, extension, email: null };
}

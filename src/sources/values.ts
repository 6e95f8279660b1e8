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
  return Math.round(Number(s));
}

/** An ISO 8601 time in UTC from a date string or epoch milliseconds, or null when absent or unreadable. */
export function isoTime(value: unknown): string | null {
  if (typeof value === "number") return Number.isFinite(value) ? new Date(value).toISOString() : null;
  const s = text(value);
  if (s === null) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** Whole seconds from one ISO time to another, or null. */
export function secondsBetween(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

/** The ISO time `s` seconds after `iso`. */
export function plusSeconds(iso: string, s: number): string {
  return new Date(Date.parse(iso) + s * 1000).toISOString();
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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

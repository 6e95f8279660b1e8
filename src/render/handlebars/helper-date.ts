/**
 * `{{date value [format] [tz]}}`, also `{{date value format tz="Europe/London"}}` (hash wins).
 *
 * value: Date, ISO 8601 string (one without an offset is taken as UTC), or an epoch number /
 * numeric string: seconds when |n| < 1e11, milliseconds otherwise. Anything else, or an invalid
 * date -> "".
 * format tokens: YYYY MM DD HH mm ss SSS, X (unix seconds), x (unix ms), Z (+01:00), ZZ (+0100);
 * text in [brackets] is literal. Default: ISO 8601, e.g. 2026-11-20T14:03:00.000Z in UTC,
 * 2026-11-20T14:03:00.000+00:00 style when a time zone is given.
 * tz: IANA name, via Intl.DateTimeFormat (web standard, works in workerd). Default UTC.
 * An unknown time zone is a render error.
 */
import type { HelperOptions } from "./helper-options.js";

const EPOCH_STRING = /^\s*-?\d+(?:\.\d+)?\s*$/;
const ISO_NO_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;
const TOKENS = /\[([^\]]*)\]|YYYY|SSS|MM|DD|HH|mm|ss|ZZ|Z|X|x/g;

function fromEpoch(n: number): Date | null {
  if (!Number.isFinite(n)) return null;
  return new Date(Math.abs(n) < 1e11 ? n * 1000 : n);
}

function toDate(value: unknown): Date | null {
  let d: Date | null = null;
  if (value instanceof Date) d = new Date(value.getTime());
  else if (typeof value === "number") d = fromEpoch(value);
  else if (typeof value === "string") {
    const s = value.trim();
    if (s === "") return null;
    if (EPOCH_STRING.test(s)) d = fromEpoch(Number(s));
    else d = new Date(Date.parse(ISO_NO_OFFSET.test(s) ? s.replace(" ", "T") + "Z" : s));
  }
  return d !== null && !Number.isNaN(d.getTime()) ? d : null;
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, "0");

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: tz,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        era: "short",
      });
    } catch {
      throw new Error(`date: unknown time zone "${tz}"`);
    }
    if (formatters.size >= 200) formatters.clear();
    formatters.set(tz, f);
  }
  return f;
}

function fieldsIn(d: Date, tz: string | undefined): Fields {
  const ms = d.getUTCMilliseconds();
  if (tz === undefined) {
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      ms,
      offsetMinutes: 0,
    };
  }
  const parts: Record<string, string> = {};
  for (const p of formatterFor(tz).formatToParts(d)) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === "BC" || parts.era === "B") year = 1 - year;
  const f: Fields = {
    year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    ms,
    offsetMinutes: 0,
  };
  const wall = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  const wallFixed = f.year >= 0 && f.year < 100 ? new Date(wall).setUTCFullYear(f.year) : wall;
  f.offsetMinutes = Math.round((wallFixed - (d.getTime() - ms)) / 60000);
  return f;
}

function offset(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? "-" : "+";
  const m = Math.abs(minutes);
  return sign + pad(Math.floor(m / 60)) + (colon ? ":" : "") + pad(m % 60);
}

function year(y: number): string {
  return (y < 0 ? "-" : "") + pad(y, 4);
}

function formatDate(d: Date, format: string | undefined, tz: string | undefined): string {
  if (format === undefined) {
    if (tz === undefined) return d.toISOString();
    format = "YYYY-MM-DDTHH:mm:ss.SSSZ";
  }
  const f = fieldsIn(d, tz);
  return format.replace(TOKENS, (token: string, literal: string | undefined) => {
    if (literal !== undefined) return literal;
    switch (token) {
      case "YYYY":
        return year(f.year);
      case "MM":
        return pad(f.month);
      case "DD":
        return pad(f.day);
      case "HH":
        return pad(f.hour);
      case "mm":
        return pad(f.minute);
      case "ss":
        return pad(f.second);
      case "SSS":
        return pad(f.ms, 3);
      case "X":
        return String(Math.floor(d.getTime() / 1000));
      case "x":
        return String(d.getTime());
      case "Z":
        return offset(f.offsetMinutes, true);
      case "ZZ":
        return offset(f.offsetMinutes, false);
      default:
        return token;
    }
  });
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function dateHelper(...args: unknown[]): string {
  const options = args[args.length - 1] as HelperOptions | undefined;
  const n = args.length - 1;
  const hash = (options && options.hash) || {};
  const d = toDate(n >= 1 ? args[0] : undefined);
  if (d === null) return "";
  const format = nonEmptyString(hash.format) ?? nonEmptyString(n >= 2 ? args[1] : undefined);
  let tz = nonEmptyString(hash.tz) ?? nonEmptyString(n >= 3 ? args[2] : undefined);
  if (tz !== undefined && /^(utc|z|gmt|etc\/utc)$/i.test(tz)) tz = undefined;
  return formatDate(d, format, tz);
}

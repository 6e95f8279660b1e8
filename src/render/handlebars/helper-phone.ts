/**
 * `{{phone value [countryCode]}}` (or `cc="44"`) -> E.164.
 *
 * - spaces, dashes, dots and parentheses are removed (and a trunk "(0)" after a +country code,
 *   as in +44 (0)20 7946 0958);
 * - `+digits` is kept, `00digits` becomes `+digits`;
 * - a bare national number with a country code given loses one leading trunk `0` and gets
 *   `+<cc>` (`07700 900123`, 44 -> +447700900123); for cc 1 an 11-digit number starting with 1
 *   already carries the country code (15551234567 -> +15551234567);
 * - anything not plausibly a phone number is returned unchanged: extensions (<= 6 digits),
 *   anything with letters or other symbols (sip:201@pbx, *97), a bare number with no country code,
 *   or a result outside 7-15 digits. null/undefined -> "".
 */
import type { HelperOptions } from "./helper-options.js";

const SEPARATORS = /[\s\-.()\u2010-\u2015]/g;
const DIGITS = /^\d+$/;
const TRUNK_AFTER_CC = /^(\+\d{1,3})\s*\(0\)/;

function e164(digits: string): string | null {
  return digits.length >= 7 && digits.length <= 15 && digits[0] !== "0" ? "+" + digits : null;
}

function countryCode(v: unknown): string | undefined {
  if (v == null || v === "") return undefined;
  const s = String(v).trim().replace(/^\+|^00/, "");
  return /^[1-9]\d{0,2}$/.test(s) ? s : undefined;
}

export function phoneHelper(...args: unknown[]): unknown {
  const options = args[args.length - 1] as HelperOptions | undefined;
  const n = args.length - 1;
  const value = n >= 1 ? args[0] : undefined;
  if (value == null) return "";
  if (typeof value !== "string" && typeof value !== "number") return value;
  const cc = countryCode((options && options.hash && options.hash.cc) ?? (n >= 2 ? args[1] : undefined));
  const cleaned = String(value).trim().replace(TRUNK_AFTER_CC, "$1").replace(SEPARATORS, "");

  let result: string | null = null;
  if (cleaned.startsWith("+")) {
    const digits = cleaned.slice(1);
    if (DIGITS.test(digits)) result = e164(digits);
  } else if (DIGITS.test(cleaned)) {
    if (cleaned.length <= 6) return value; // an extension
    if (cleaned.startsWith("00")) result = e164(cleaned.slice(2));
    else if (cc !== undefined) {
      if (cc === "1" && cleaned.length === 11 && cleaned.startsWith("1")) result = e164(cleaned);
      else result = e164(cc + (cleaned.startsWith("0") ? cleaned.slice(1) : cleaned));
    }
  }
  return result ?? value;
}

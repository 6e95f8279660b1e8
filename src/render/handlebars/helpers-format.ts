/** Value helpers: json, default, upper, lower, math. */
import type { HelperOptions } from "./helper-options.js";
import { toNumber } from "./helpers-logic.js";
import { SafeString } from "./safe-string.js";

const LINE_SEPS = /[\u2028\u2029]/g;
const lineSep = (c: string): string => (c === "\u2028" ? "\\u2028" : "\\u2029");

/**
 * `{{json value [indent]}}` -> SafeString(JSON.stringify(value)); undefined (and functions) -> `null`.
 * Never escaped, so `{"name": {{json caller_name}} }` is valid JSON for any input.
 * U+2028/U+2029 are written as \u escapes. A SafeString value is encoded as its text.
 */
export function jsonHelper(...args: unknown[]): SafeString {
  const n = args.length - 1; // last argument is options
  let value = n >= 1 ? args[0] : undefined;
  const indent = n >= 2 ? args[1] : undefined;
  if (value !== null && typeof value === "object" && typeof (value as { toHTML?: unknown }).toHTML === "function") {
    value = String((value as { toHTML(): string }).toHTML());
  }
  const space = typeof indent === "number" || typeof indent === "string" ? indent : undefined;
  let s = JSON.stringify(value === undefined ? null : value, null, space) as string | undefined;
  if (s === undefined) s = "null";
  return new SafeString(s.replace(LINE_SEPS, lineSep));
}

/** `{{default value fallback...}}` -> the first argument that is not null/undefined/"", else the last one. */
export function defaultHelper(...args: unknown[]): unknown {
  const n = args.length - 1;
  for (let i = 0; i < n; i++) {
    const v = args[i];
    if (v != null && v !== "") return v;
  }
  return n > 0 ? args[n - 1] : undefined;
}

/** `{{upper value}}`; null/undefined -> "". */
export function upperHelper(...args: unknown[]): string {
  const v = args.length > 1 ? args[0] : undefined;
  return v == null ? "" : String(v).toUpperCase();
}

/** `{{lower value}}`; null/undefined -> "". */
export function lowerHelper(...args: unknown[]): string {
  const v = args.length > 1 ? args[0] : undefined;
  return v == null ? "" : String(v).toLowerCase();
}

function roundTo(x: number, digits: number, fn: (v: number) => number): number {
  if (!digits) return fn(x);
  // shift by exponent notation to avoid 1.005 * 100 = 100.49999...
  const shifted = fn(Number(`${x}e${digits}`));
  return Number(`${shifted}e${-digits}`);
}

/**
 * `{{math a op b}}` with op one of + - * / % (binary) or round floor ceil abs (unary on a;
 * for round/floor/ceil an optional b is the number of decimals: `{{math x "round" 2}}`).
 * Operands may be numbers or numeric strings. Anything non-numeric, division by zero or another
 * non-finite result renders "" (so a missing field gives an empty value, not "NaN").
 * An unknown operator is a template bug and throws (a render error).
 */
export function mathHelper(...args: unknown[]): number | string {
  const options = args[args.length - 1] as HelperOptions;
  const n = args.length - 1;
  const a = toNumber(n >= 1 ? args[0] : undefined);
  const op = n >= 2 ? args[1] : undefined;
  const bRaw = n >= 3 ? args[2] : undefined;
  const b = toNumber(bRaw);
  let r: number;
  switch (op) {
    case "+":
      r = a + b;
      break;
    case "-":
      r = a - b;
      break;
    case "*":
      r = a * b;
      break;
    case "/":
      r = a / b;
      break;
    case "%":
      r = a % b;
      break;
    case "round":
    case "floor":
    case "ceil": {
      const digits = bRaw === undefined ? 0 : b;
      if (!Number.isInteger(digits) || digits < 0 || digits > 20) return "";
      r = roundTo(a, digits, Math[op]);
      break;
    }
    case "abs":
      r = Math.abs(a);
      break;
    default:
      throw new Error(`math: unknown operator ${JSON.stringify(op)} in "${options?.name ?? "math"}" (use + - * / % round floor ceil abs)`);
  }
  return Number.isFinite(r) ? r : "";
}

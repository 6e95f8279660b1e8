/**
 * Comparison and boolean helpers. Each works inline (`{{#if (eq direction "inbound")}}`, result
 * true/false) and as a block helper (`{{#eq a b}}yes{{else}}no{{/eq}}`).
 *
 * - eq / ne: strict equality, except that a number and a numeric string compare as numbers
 *   (`eq hangup_cause_code 16` is true for "16"); two strings always compare as strings.
 * - gt / gte / lt / lte: numerically when both sides are numbers or numeric strings, else as
 *   strings when both are strings (ISO timestamps order correctly), else false.
 * - and / or / not: truthiness as Handlebars' `if` sees it (0, "", null, undefined, false and [] are false).
 */
import { blockOrValue, type HelperOptions } from "./helper-options.js";

const NUMERIC = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && NUMERIC.test(v)) return Number(v);
  return NaN;
}

function unwrap(v: unknown): unknown {
  // SafeString (e.g. from json) compares as its text
  if (v !== null && typeof v === "object" && typeof (v as { toHTML?: unknown }).toHTML === "function") {
    return (v as { toHTML(): string }).toHTML();
  }
  return v;
}

function looseEquals(a: unknown, b: unknown): boolean {
  a = unwrap(a);
  b = unwrap(b);
  if (a === b) return true;
  if ((typeof a === "number" && typeof b === "string") || (typeof a === "string" && typeof b === "number")) {
    const x = toNumber(a);
    const y = toNumber(b);
    return !Number.isNaN(x) && x === y;
  }
  return false;
}

/** -1 / 0 / 1, or undefined when the values are not comparable. */
function compareValues(a: unknown, b: unknown): number | undefined {
  a = unwrap(a);
  b = unwrap(b);
  const x = toNumber(a);
  const y = toNumber(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x < y ? -1 : x > y ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function truthy(v: unknown): boolean {
  return !!v && !(Array.isArray(v) && v.length === 0);
}

function comparison(test: (c: number) => boolean) {
  return function (this: unknown, ...args: unknown[]): unknown {
    const options = args[args.length - 1] as HelperOptions;
    const c = compareValues(args[0], args[1]);
    return blockOrValue(this, c !== undefined && test(c), options);
  };
}

export function eqHelper(this: unknown, ...args: unknown[]): unknown {
  return blockOrValue(this, looseEquals(args[0], args.length > 2 ? args[1] : undefined), args[args.length - 1] as HelperOptions);
}

export function neHelper(this: unknown, ...args: unknown[]): unknown {
  return blockOrValue(this, !looseEquals(args[0], args.length > 2 ? args[1] : undefined), args[args.length - 1] as HelperOptions);
}

export const gtHelper = comparison((c) => c > 0);
export const gteHelper = comparison((c) => c >= 0);
export const ltHelper = comparison((c) => c < 0);
export const lteHelper = comparison((c) => c <= 0);

export function andHelper(this: unknown, ...args: unknown[]): unknown {
  const options = args[args.length - 1] as HelperOptions;
  let result = true;
  for (let i = 0; i < args.length - 1; i++) {
    if (!truthy(args[i])) {
      result = false;
      break;
    }
  }
  return blockOrValue(this, result, options);
}

export function orHelper(this: unknown, ...args: unknown[]): unknown {
  const options = args[args.length - 1] as HelperOptions;
  let result = false;
  for (let i = 0; i < args.length - 1; i++) {
    if (truthy(args[i])) {
      result = true;
      break;
    }
  }
  return blockOrValue(this, result, options);
}

export function notHelper(this: unknown, ...args: unknown[]): unknown {
  return blockOrValue(this, !truthy(args.length > 1 ? args[0] : undefined), args[args.length - 1] as HelperOptions);
}

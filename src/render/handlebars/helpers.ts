/** The built-in helper table: Handlebars' own helpers plus the gateway's. */
import { dateHelper } from "./helper-date.js";
import { phoneHelper } from "./helper-phone.js";
import { eachHelper, ifHelper, logHelper, lookupHelper, unlessHelper, withHelper } from "./helpers-core.js";
import { defaultHelper, jsonHelper, lowerHelper, mathHelper, upperHelper } from "./helpers-format.js";
import {
  andHelper,
  eqHelper,
  gteHelper,
  gtHelper,
  lteHelper,
  ltHelper,
  neHelper,
  notHelper,
  orHelper,
} from "./helpers-logic.js";
import type { HelperFunction } from "./ir.js";
import { uuidV5 } from "../../domain/uuid.js";

/** `{{uuid5 uniqueid}}`: a stable UUID for a non-UUID id (VoIP Cloud wants UUID-shaped call ids). */
function uuid5Helper(value: unknown, ...rest: unknown[]): string {
  const namespace = rest.length > 1 && typeof rest[0] === "string" ? rest[0] : undefined;
  return value === null || value === undefined ? "" : uuidV5(String(value), namespace);
}

/**
 * The gateway's own helpers, written with Handlebars' calling convention
 * (`helper.call(this, ...params, options)`), so the same functions can be registered in real
 * Handlebars (`Handlebars.registerHelper(gatewayHelpers)`) and behave identically.
 */
export const gatewayHelpers: Readonly<Record<string, HelperFunction>> = Object.freeze({
  json: jsonHelper,
  default: defaultHelper,
  eq: eqHelper,
  ne: neHelper,
  gt: gtHelper,
  gte: gteHelper,
  lt: ltHelper,
  lte: lteHelper,
  and: andHelper,
  or: orHelper,
  not: notHelper,
  date: dateHelper,
  upper: upperHelper,
  lower: lowerHelper,
  math: mathHelper,
  phone: phoneHelper,
  uuid5: uuid5Helper,
});

/** Handlebars' built-ins, re-implemented (see helpers-core.ts). */
const handlebarsHelpers: Readonly<Record<string, HelperFunction>> = {
  if: ifHelper,
  unless: unlessHelper,
  each: eachHelper,
  with: withHelper,
  lookup: lookupHelper,
  log: logHelper,
};

// Null-prototype table: a template can never reach a "helper" named constructor or hasOwnProperty.
const BUILTINS: Record<string, HelperFunction> = Object.assign(
  Object.create(null) as Record<string, HelperFunction>,
  handlebarsHelpers,
  gatewayHelpers,
);

/** Names of the built-in helpers, for documentation. */
export const helperNames: readonly string[] = Object.freeze(Object.keys(BUILTINS));

/** The built-in helper of that name, if any. */
export function builtinHelper(name: string): HelperFunction | undefined {
  return BUILTINS[name];
}

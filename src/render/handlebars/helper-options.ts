import type { SourceLoc } from "./errors.js";
import * as lookup from "./lookup.js";

const lookupProperty = lookup.lookupProperty; // local copy, see interpreter.ts

/** What a block's `options.fn` / `options.inverse` accept as second argument (Handlebars' convention). */
export interface ProgramOptions {
  data?: unknown;
  blockParams?: unknown[];
}

export type ProgramFn = (context?: unknown, options?: ProgramOptions) => string;

/**
 * The `options` argument of a helper, as in Handlebars: helper.call(this, ...params, options).
 * `fn` / `inverse` are set for block calls only.
 */
export class HelperOptions {
  name: string;
  hash: Record<string, unknown>;
  data: Record<string, unknown> | undefined;
  loc: SourceLoc | undefined;
  fn: ProgramFn | undefined;
  inverse: ProgramFn | undefined;
  blockParams?: unknown[];

  constructor(
    name: string,
    hash: Record<string, unknown>,
    data: Record<string, unknown> | undefined,
    loc: SourceLoc | undefined,
    fn: ProgramFn | undefined,
    inverse: ProgramFn | undefined,
  ) {
    this.name = name;
    this.hash = hash;
    this.data = data;
    this.loc = loc;
    this.fn = fn;
    this.inverse = inverse;
  }

  /** Same as the `options.lookupProperty` Handlebars gives helpers: own properties only. */
  lookupProperty(parent: unknown, name: unknown): unknown {
    return lookupProperty(parent, name);
  }
}

/** Helper written to work both inline (`(eq a b)`) and as a block (`{{#eq a b}}..{{else}}..{{/eq}}`). */
export function blockOrValue(self: unknown, value: boolean, options: HelperOptions | undefined): unknown {
  if (options && typeof options.fn === "function") {
    return value ? options.fn(self) : options.inverse ? options.inverse(self) : "";
  }
  return value;
}

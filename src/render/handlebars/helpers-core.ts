/**
 * Handlebars' own built-in helpers (if, unless, each, with, lookup, log) and its
 * blockHelperMissing / helperMissing hooks, re-implemented line by line from
 * handlebars/lib/handlebars/helpers/*.js (4.7.10) so that output matches exactly.
 */
import type { HelperOptions, ProgramFn } from "./helper-options.js";
import * as lookup from "./lookup.js";

const createFrame = lookup.createFrame; // local copy, see interpreter.ts

function isEmpty(value: unknown): boolean {
  if (!value && value !== 0) return true;
  return Array.isArray(value) && value.length === 0;
}

export function ifHelper(this: unknown, conditional: unknown, options: HelperOptions): unknown {
  if (arguments.length !== 2) throw new Error("#if requires exactly one argument");
  if (typeof conditional === "function") conditional = conditional.call(this);
  if ((!options.hash.includeZero && !conditional) || isEmpty(conditional)) {
    return (options.inverse as ProgramFn)(this);
  }
  return (options.fn as ProgramFn)(this);
}

export function unlessHelper(this: unknown, conditional: unknown, options: HelperOptions): unknown {
  if (arguments.length !== 2) throw new Error("#unless requires exactly one argument");
  return ifHelper.call(this, conditional, { fn: options.inverse, inverse: options.fn, hash: options.hash } as HelperOptions);
}

export function withHelper(this: unknown, context: unknown, options: HelperOptions): unknown {
  if (arguments.length !== 2) throw new Error("#with requires exactly one argument");
  if (typeof context === "function") context = context.call(this);
  if (!isEmpty(context)) {
    return (options.fn as ProgramFn)(context, { data: options.data, blockParams: [context] });
  }
  return (options.inverse as ProgramFn)(this);
}

export function lookupHelper(obj: unknown, field: unknown, options: HelperOptions): unknown {
  if (!obj) return obj;
  // Given one argument, the options object comes as `field` (Handlebars then fails reading a property of nothing).
  if (!options) throw new Error('lookup takes an object and a key: {{lookup agent "name"}}');
  return options.lookupProperty(obj, field);
}

/** Renders nothing. (Handlebars would write to the console; a gateway has no use for that.) */
export function logHelper(): undefined {
  return undefined;
}

export function eachHelper(this: unknown, context: unknown, options: HelperOptions): string {
  if (!options) throw new Error("Must pass iterator to #each");
  const fn = options.fn as ProgramFn;
  const inverse = options.inverse as ProgramFn;
  let i = 0;
  let ret = "";
  let data: Record<string, unknown> | undefined;

  if (typeof context === "function") context = context.call(this);
  if (options.data) data = createFrame(options.data);

  const execIteration = (field: unknown, index: number, last: boolean, value: unknown): void => {
    if (data) {
      data.key = field;
      data.index = index;
      data.first = index === 0;
      data.last = !!last;
    }
    ret = ret + fn(value, { data, blockParams: [value, field] });
  };

  if (context && typeof context === "object") {
    if (Array.isArray(context)) {
      for (const j = context.length; i < j; i++) {
        if (i in context) execIteration(i, i, i === context.length - 1, context[i]);
      }
    } else if (typeof (context as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function") {
      const iterator = (context as Iterable<unknown>)[Symbol.iterator]();
      let current = iterator.next();
      while (!current.done) {
        const next = iterator.next();
        try {
          execIteration(i, i, !!next.done, current.value);
        } catch (e) {
          if (!next.done) {
            try {
              iterator.return?.();
            } catch {
              /* the block's error is the one to report */
            }
          }
          throw e;
        }
        current = next;
        i++;
      }
    } else {
      let priorKey: string | undefined;
      for (const key of Object.keys(context)) {
        if (priorKey !== undefined) execIteration(priorKey, i - 1, false, (context as Record<string, unknown>)[priorKey]);
        priorKey = key;
        i++;
      }
      if (priorKey !== undefined) execIteration(priorKey, i - 1, true, (context as Record<string, unknown>)[priorKey]);
    }
  }

  if (i === 0) ret = inverse(this) as string;
  return ret;
}

/** Handlebars' blockHelperMissing hook: `{{#value}}...{{/value}}` on a non-helper. */
export function blockHelperMissing(this: unknown, context: unknown, options: HelperOptions): unknown {
  const inverse = options.inverse as ProgramFn;
  const fn = options.fn as ProgramFn;
  if (context === true) return fn(this);
  if (context === false || context == null) return inverse(this);
  if (Array.isArray(context)) {
    if (context.length > 0) return eachHelper.call(undefined, context, options);
    return inverse(this);
  }
  return fn(context, options);
}

/** Handlebars' helperMissing hook: no helper and no function of that name. */
export function helperMissing(...args: unknown[]): undefined {
  if (args.length === 1) return undefined;
  throw new Error(`Missing helper: "${(args[args.length - 1] as HelperOptions).name}"`);
}

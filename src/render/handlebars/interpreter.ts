/**
 * The interpreter: walks the IR (ir.ts) with Handlebars 4.7.10 runtime semantics
 * (handlebars/lib/handlebars/runtime.js + the code javascript-compiler.js would generate),
 * but never generates or evaluates code. The scope a program runs in, and how a path resolves in it, are
 * scope.ts's.
 */
import * as errors from "./errors.js";
import type { TemplateError as TemplateErrorType } from "./errors.js";
import type { Escaper } from "./escape.js";
import * as options from "./helper-options.js";
import type { HelperOptions as HelperOptionsType, ProgramFn, ProgramOptions } from "./helper-options.js";
import * as core from "./helpers-core.js";
import * as ir from "./ir.js";
import type { Call, CompiledTemplate, Expr, HelperFunction, InlineDef, Program, Stmt } from "./ir.js";
import type { Limits } from "./limits.js";
import * as lookup from "./lookup.js";
import * as scope from "./scope.js";
import type { BlockParamFrame, Container, DepthNode, PartialScope, Scope as ScopeType } from "./scope.js";

/*
 * Module-local copies of everything the hot path uses from other modules. Some loaders turn
 * imported bindings into getter calls (CommonJS interop, vitest's module transform); reading
 * them once here keeps the interpreter loop free of that cost. Values are identical.
 */
const { S_CONTENT, S_MUSTACHE, S_BLOCK, E_LITERAL, E_CALL, C_SIMPLE, C_AMBIGUOUS, C_KNOWN } = ir;
const { R_ADD, R_INIT, R_MID_START, R_MID_ADD, R_BREAK, R_ONLY_BREAK } = ir;
const { createFrame, extend, lookupOwn, setOwn } = lookup;
const { NULL_CONTEXT, ROOT_BP, Scope, pushDepth, renderError, resolvePath } = scope;
const { blockHelperMissing, helperMissing } = core;
const { TemplateError, toRenderError } = errors;
const HelperOptions = options.HelperOptions;
type TemplateError = TemplateErrorType;
type HelperOptions = HelperOptionsType;
type Scope = ScopeType;

/** Compile a partial's source (cached); throws TemplateError(kind "syntax"). */
type PartialCompiler = (source: string, name: string) => CompiledTemplate;

export class RenderState {
  bytes = 0;
  steps = 0;
  partialDepth = 0;
  constructor(
    readonly escape: Escaper | null,
    readonly customHelpers: Record<string, HelperFunction> | null,
    readonly limits: Limits,
    readonly compilePartial: PartialCompiler,
  ) {}
}

const noop: ProgramFn = () => "";

function outputLimit(st: RenderState, cont: Container): TemplateError {
  return new TemplateError("render", `output exceeds the limit of ${st.limits.maxOutput} characters`, { partial: cont.name });
}

/* ------------------------------------------------------------ expressions */

function evalExpr(st: RenderState, e: Expr, sc: Scope): unknown {
  const k = e.k;
  if (k === E_LITERAL) return e.value;
  if (k === E_CALL) return evalCall(st, e.call!, sc, null);
  return resolvePath(e.path!, sc, sc.cont, undefined);
}

function evalHash(st: RenderState, keys: readonly string[], values: readonly Expr[], sc: Scope): Record<string, unknown> {
  const n = keys.length;
  const vals = new Array<unknown>(n);
  for (let i = 0; i < n; i++) vals[i] = evalExpr(st, values[i]!, sc);
  // Handlebars assigns hash pairs last to first: key order is reversed and the first duplicate wins.
  const hash: Record<string, unknown> = {};
  for (let i = n - 1; i >= 0; i--) setOwn(hash, keys[i]!, vals[i]);
  return hash;
}

function getHelper(st: RenderState, c: Call): HelperFunction | undefined {
  const name = c.helperName;
  if (name === null) return undefined;
  const custom = st.customHelpers;
  if (custom !== null) {
    const h = custom[name];
    if (h !== undefined) return h;
  }
  return c.builtin;
}

function makeOptions(st: RenderState, c: Call, sc: Scope, blk: Stmt | null): HelperOptions {
  const hash = c.hashKeys === null ? {} : evalHash(st, c.hashKeys, c.hashValues!, sc);
  if (blk === null) return new HelperOptions(c.optName, hash, sc.data, c.loc, undefined, undefined);
  const fn = blk.program !== null ? programFn(st, blk.program, sc.cont, sc.depths, sc.data, sc.bp) : noop;
  const inverse = blk.inverse !== null ? programFn(st, blk.inverse, sc.cont, sc.depths, sc.data, sc.bp) : noop;
  return new HelperOptions(c.optName, hash, sc.data, c.loc, fn, inverse);
}

function invoke(f: HelperFunction, self: unknown, args: unknown[], c: Call, sc: Scope): unknown {
  try {
    return f.apply(self, args);
  } catch (e) {
    throw toRenderError(e, c.loc, sc.cont.name);
  }
}

/** A mustache, block or subexpression call. `blk` is the block statement, or null. */
function evalCall(st: RenderState, c: Call, sc: Scope, blk: Stmt | null): unknown {
  const type = c.type;
  const ctx = sc.ctx;

  if (type === C_SIMPLE) {
    let v = resolvePath(c.path, sc, sc.cont, c.loc);
    if (typeof v === "function") v = invoke(v as HelperFunction, ctx, [], c, sc); // resolvePossibleLambda
    if (blk === null) return v;
    return invoke(blockHelperMissing, ctx, [v, makeOptions(st, c, sc, blk)], c, sc);
  }

  if (type === C_AMBIGUOUS) {
    const helper = getHelper(st, c);
    let v: unknown = helper !== undefined ? helper : resolvePath(c.path, sc, sc.cont, c.loc);
    let options: HelperOptions | null = null;
    if (typeof v === "function") {
      options = makeOptions(st, c, sc, blk);
      v = invoke(v as HelperFunction, ctx != null ? ctx : NULL_CONTEXT, [options], c, sc);
    } else if (v == null) {
      v = undefined; // helperMissing with no params
    }
    if (blk === null || helper !== undefined) return v;
    return invoke(blockHelperMissing, ctx, [v, options ?? makeOptions(st, c, sc, blk)], c, sc);
  }

  // C_HELPER / C_KNOWN
  let f: unknown = getHelper(st, c);
  if (f === undefined) {
    if (type === C_KNOWN) throw renderError(`Missing helper: "${c.optName}"`, c.loc, sc.cont);
    const nonHelper = resolvePath(c.path, sc, sc.cont, c.loc);
    f = nonHelper ? nonHelper : helperMissing;
  }
  if (typeof f !== "function") throw renderError(`"${c.optName}" is not a function`, c.loc, sc.cont);
  const params = c.params;
  const n = params.length;
  const args = new Array<unknown>(n + 1);
  for (let i = 0; i < n; i++) args[i] = evalExpr(st, params[i]!, sc);
  args[n] = makeOptions(st, c, sc, blk);
  return invoke(f as HelperFunction, ctx != null ? ctx : NULL_CONTEXT, args, c, sc);
}

/* --------------------------------------------------------------- programs */

/** A block body as a function, the way helpers receive it (Handlebars' wrapProgram). */
function programFn(
  st: RenderState,
  prog: Program,
  cont: Container,
  depths: DepthNode | null,
  data: Record<string, unknown> | undefined,
  bp: BlockParamFrame | null,
): ProgramFn {
  return ((context?: unknown, options?: ProgramOptions): unknown => {
    let d = data;
    let bpVals: unknown[] | undefined;
    if (options !== undefined && options !== null) {
      if (options.data) d = options.data as Record<string, unknown>;
      bpVals = options.blockParams;
    }
    return runProgram(st, prog, cont, context, depths, d, bp, bpVals);
  }) as ProgramFn;
}

function runProgram(
  st: RenderState,
  prog: Program,
  cont: Container,
  ctx: unknown,
  parentDepths: DepthNode | null,
  data: Record<string, unknown> | undefined,
  parentBp: BlockParamFrame | null,
  bpVals: readonly unknown[] | undefined,
): unknown {
  countStep(st, cont);
  const depths = prog.useDepths ? pushDepth(parentDepths, ctx) : parentDepths;
  const bp = prog.useBlockParams ? { vals: bpVals, next: parentBp } : parentBp;
  return execProgram(st, prog, new Scope(ctx, depths, data, bp, cont), parentDepths, parentBp);
}

/** Run a template's main program (Handlebars' `ret(context, options)`). */
export function runMain(
  st: RenderState,
  tpl: CompiledTemplate,
  cont: Container,
  ctx: unknown,
  data: Record<string, unknown> | undefined,
): unknown {
  countStep(st, cont);
  return execProgram(st, tpl.main, new Scope(ctx, { v: ctx, next: null }, data, ROOT_BP, cont), null, null);
}

/** One more block execution, refused past the limit. */
function countStep(st: RenderState, cont: Container): void {
  if (++st.steps > st.limits.maxSteps) {
    throw new TemplateError("render", `template too complex: more than ${st.limits.maxSteps} block executions`, { partial: cont.name });
  }
}

/** A program's statements, its `{{#*inline}}` partials defined (over the definer's depths and block params) while they run. */
function execProgram(st: RenderState, prog: Program, sc: Scope, defDepths: DepthNode | null, defBp: BlockParamFrame | null): unknown {
  if (prog.inlines === null) return execBody(st, prog.body, sc);
  const cont = sc.cont;
  const saved = cont.partials;
  cont.partials = defineInlines(st, prog.inlines, saved, sc, defDepths, sc.data, defBp);
  try {
    return execBody(st, prog.body, sc);
  } finally {
    cont.partials = saved;
  }
}

/** `{{#*inline "name"}}` (Handlebars' inline decorator): a new partial scope on top of `outer`. */
function defineInlines(
  st: RenderState,
  inlines: readonly InlineDef[],
  outer: PartialScope,
  sc: Scope,
  defDepths: DepthNode | null,
  defData: Record<string, unknown> | undefined,
  defBp: BlockParamFrame | null,
): PartialScope {
  const scope = Object.create(outer) as PartialScope;
  for (const inline of inlines) {
    const name = String(inline.name === null ? undefined : evalExpr(st, inline.name, sc));
    setOwn(scope, name, programFn(st, inline.program, sc.cont, defDepths, defData, defBp));
  }
  return scope;
}

/**
 * Run a program's statements. Returns the raw value Handlebars' generated code would return:
 * usually a string, but a program made only of e.g. `{{{n}}}` returns n itself (see R_* in ir.ts).
 */
function execBody(st: RenderState, body: readonly Stmt[], sc: Scope): unknown {
  // `any` on purpose: these replicate JavaScript's `+` on whatever values the template produced.
  let buffer: any = "";
  let acc: any;
  const max = st.limits.maxOutput;
  for (let i = 0, n = body.length; i < n; i++) {
    const s = body[i]!;
    let v: unknown;
    switch (s.k) {
      case S_CONTENT:
        v = s.text;
        break;
      case S_MUSTACHE: {
        const r = evalCall(st, s.call!, sc, null);
        v = s.escaped && st.escape !== null ? st.escape(r) : r != null ? r : "";
        break;
      }
      case S_BLOCK: {
        const r = evalCall(st, s.call!, sc, s);
        if (s.run >= R_BREAK) {
          if (s.run === R_ONLY_BREAK) return r != null ? r : "";
          if (r != null) buffer = buffer + r;
          continue;
        }
        v = r != null ? r : "";
        break;
      }
      default:
        v = invokePartial(st, s, sc);
        break;
    }
    if (typeof v === "string" && (st.bytes += v.length) > max) throw outputLimit(st, sc.cont);
    switch (s.run) {
      case R_ADD:
        buffer = buffer + v;
        break;
      case R_INIT:
        buffer = v;
        break;
      case R_MID_START:
        acc = v;
        break;
      case R_MID_ADD:
        acc = acc + v;
        break;
      default: // R_MID_LAST
        buffer = buffer + (acc + v);
        break;
    }
  }
  return buffer;
}

/* --------------------------------------------------------------- partials */

function indentLines(result: string, indent: string): string {
  const lines = result.split("\n");
  for (let i = 0, l = lines.length; i < l; i++) {
    if (!lines[i] && i + 1 === l) break;
    lines[i] = indent + lines[i];
  }
  return lines.join("\n");
}

/** `{{> name}}`, `{{> (expr) ctx key=val}}`, `{{#> name}}block{{/name}}`, `{{> @partial-block}}`. */
function invokePartial(st: RenderState, s: Stmt, sc: Scope): unknown {
  const p = s.partial!;
  const cont = sc.cont;
  let partials = cont.partials;
  let name: unknown = p.name ?? undefined;
  let partial: unknown = p.dynamic !== null ? evalCall(st, p.dynamic, sc, null) : partials[p.name!];

  let context = p.param !== null ? evalExpr(st, p.param, sc) : sc.ctx;
  const hash = p.hashKeys === null ? undefined : evalHash(st, p.hashKeys, p.hashValues!, sc);
  if (hash !== undefined) context = extend({}, context, hash);

  // resolvePartial
  if (!partial) {
    partial = name === "@partial-block" ? lookupOwn(sc.data, "partial-block") : partials[String(name)];
  } else if (typeof partial !== "function" && !name) {
    name = partial;
    partial = partials[String(partial)];
  }

  // invokePartial
  let data = sc.data;
  let partialBlock: ProgramFn | undefined;
  if (p.program !== null) {
    const currentPartialBlock = lookupOwn(data, "partial-block");
    const fn = programFn(st, p.program, cont, sc.depths, sc.data, sc.bp);
    data = createFrame(data);
    partialBlock = (context?: unknown, options: ProgramOptions = {}): string => {
      const frame = createFrame(options.data);
      frame["partial-block"] = currentPartialBlock;
      options.data = frame;
      return fn(context, options);
    };
    data["partial-block"] = partialBlock;
    if (p.program.inlines !== null) {
      partials = defineInlines(st, p.program.inlines, partials, sc, sc.depths, sc.data, sc.bp);
    }
  }
  if (partial === undefined && partialBlock !== undefined) partial = partialBlock;
  if (partial === undefined) throw renderError(`The partial ${String(name)} could not be found`, p.loc, cont);

  if (st.partialDepth >= st.limits.maxPartialDepth) {
    throw renderError(`partials nested more than ${st.limits.maxPartialDepth} deep (recursive partial?) at partial ${String(name)}`, p.loc, cont);
  }
  st.partialDepth++;
  let result: unknown;
  try {
    if (typeof partial === "function") {
      result = (partial as ProgramFn)(context, { data } as ProgramOptions);
      if (result == null) throw renderError(`The partial ${String(name)} returned no output: partials must return a string`, p.loc, cont);
    } else if (typeof partial === "string") {
      const partialName = String(name);
      const tpl = st.compilePartial(partial, partialName);
      result = "" + (runMain(st, tpl, { partials, name: partialName }, context, data) as string);
    } else {
      throw renderError(`The partial ${String(name)} could not be compiled: partials must be strings`, p.loc, cont);
    }
  } catch (e) {
    throw toRenderError(e, p.loc, cont.name);
  } finally {
    st.partialDepth--;
  }
  if (!p.indent) return result;
  if (typeof result !== "string") throw renderError(`The partial ${String(name)} did not return a string to indent`, p.loc, cont);
  return indentLines(result, p.indent);
}

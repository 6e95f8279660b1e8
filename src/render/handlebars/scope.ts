/**
 * What a running template sees, as the interpreter (interpreter.ts) keeps it: the context, the contexts above it
 * (Handlebars' `depths`), `@data`, block params and partials; and how a path expression is resolved in it (the
 * look-ups Handlebars 4.7.10's javascript-compiler.js would generate, and runtime.js's wrapProgram depths).
 */
import * as errors from "./errors.js";
import type { SourceLoc, TemplateError as TemplateErrorType } from "./errors.js";
import * as ir from "./ir.js";
import type { PathRef } from "./ir.js";
import * as lookup from "./lookup.js";

// Module-local copies of what the hot path uses from other modules: see interpreter.ts.
const { P_CONTEXT, P_BLOCK_PARAM } = ir;
const { lookupProperty } = lookup;
const { TemplateError } = errors;
type TemplateError = TemplateErrorType;

/** Handlebars' container.nullContext: `this` for helpers when the context is null/undefined. */
export const NULL_CONTEXT: object = Object.seal({});

/** Partials visible to a template: a null-prototype chain (inline partials shadow outer ones). */
export type PartialScope = Record<string, unknown>;

export interface DepthNode {
  readonly v: unknown;
  readonly next: DepthNode | null;
}

export interface BlockParamFrame {
  readonly vals: readonly unknown[] | undefined;
  readonly next: BlockParamFrame | null;
}

export const ROOT_BP: BlockParamFrame = { vals: undefined, next: null };

/** One running template (Handlebars' "container"): its current partials and its name for errors. */
export interface Container {
  partials: PartialScope;
  readonly name: string | undefined;
}

export class Scope {
  constructor(
    readonly ctx: unknown,
    readonly depths: DepthNode | null,
    readonly data: Record<string, unknown> | undefined,
    readonly bp: BlockParamFrame | null,
    readonly cont: Container,
  ) {}
}

/** A render error at `loc` (when known) in the running template. */
export function renderError(detail: string, loc: SourceLoc | undefined, cont: Container): TemplateError {
  return new TemplateError("render", detail, loc === undefined ? { partial: cont.name } : { line: loc.start.line, column: loc.start.column + 1, partial: cont.name });
}

/** The depths a program running on `ctx` sees: `ctx` on top of `d`, unless it is there already. */
export function pushDepth(d: DepthNode | null, ctx: unknown): DepthNode | null {
  const top = d === null ? undefined : d.v;
  // wrapProgram: `context != depths[0]` (loose, as Handlebars) and the nullContext exception
  if (ctx != top && !(ctx === NULL_CONTEXT && top === null)) return { v: ctx, next: d };
  return d;
}

/** The value a path expression names in the scope. */
export function resolvePath(p: PathRef, sc: Scope, cont: Container, loc: SourceLoc | undefined): unknown {
  let cur: unknown;
  const mode = p.mode;
  if (mode === P_CONTEXT) {
    if (p.depth === 0) cur = sc.ctx;
    else {
      let d = sc.depths;
      for (let n = p.depth; n > 0 && d !== null; n--) d = d.next;
      cur = d === null ? undefined : d.v;
    }
  } else if (mode === P_BLOCK_PARAM) {
    let f = sc.bp;
    for (let n = p.bpDepth; n > 0 && f !== null; n--) f = f.next;
    const vals = f === null ? undefined : f.vals;
    if (vals == null) throw renderError(`block param "${p.parts[0]}" was not provided by the helper`, loc, cont);
    cur = vals[p.bpIndex];
  } else {
    cur = sc.data;
    for (let n = p.depth; n > 0 && cur; n--) cur = (cur as Record<string, unknown>)._parent;
  }
  const parts = p.parts;
  const len = parts.length;
  if (p.falsy) {
    for (let i = p.start; i < len; i++) {
      if (!cur) return cur;
      cur = lookupProperty(cur, parts[i]);
    }
  } else {
    for (let i = p.start; i < len; i++) {
      if (cur == null) return cur;
      cur = lookupProperty(cur, parts[i]);
    }
  }
  return cur;
}

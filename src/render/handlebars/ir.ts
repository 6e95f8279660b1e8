/**
 * The interpreter's compact form of a template, built once from Handlebars.parse()'s AST
 * (see compile.ts). Classification (simple / ambiguous / helper), block-param indices and
 * path parts are all decided here, so rendering is a tight walk over these nodes.
 * Node objects of one kind always have the same shape (monomorphic property access).
 */
import type { SourceLoc } from "./errors.js";

// Statement kinds
export const S_CONTENT = 0;
export const S_MUSTACHE = 1;
export const S_BLOCK = 2;
export const S_PARTIAL = 3;

// Expression kinds
export const E_LITERAL = 0;
export const E_PATH = 1;
export const E_CALL = 2;

// Call kinds, as Handlebars' compiler classifies a mustache/block/subexpression
export const C_SIMPLE = 0; // path lookup (+ context function call); blocks go to blockHelperMissing
export const C_AMBIGUOUS = 1; // helper if one has the name, else path value (functions are called)
export const C_HELPER = 2; // helper || function in context || helperMissing
export const C_KNOWN = 3; // Handlebars' knownHelpers (if, unless, each, with, log, lookup, ...): helper called directly

// Path bases
export const P_CONTEXT = 0;
export const P_DATA = 1;
export const P_BLOCK_PARAM = 2;

/*
 * How a statement's value joins the program's output. Handlebars merges consecutive "append"
 * statements into one JS expression (`buffer += a + b + c`), so two non-string values at the
 * start of such a run add arithmetically ({{{a}}}{{{b}}} with 1 and 2 renders "3"). Only blocks
 * whose helper is decided at run time (`{{#foo}}` on a plain name) break a run. We replicate it.
 */
export const R_ADD = 0; // buffer = buffer + v
export const R_INIT = 1; // buffer = v (first statement of a program that starts with a run)
export const R_MID_START = 2; // acc = v (run between two breaking blocks)
export const R_MID_ADD = 3; // acc = acc + v
export const R_MID_LAST = 4; // buffer = buffer + (acc + v)
export const R_BREAK = 5; // breaking block: if (v != null) buffer = buffer + v
export const R_ONLY_BREAK = 6; // the program is a single breaking block: return v ?? ""

export type HelperFunction = (this: any, ...args: any[]) => unknown;

export interface PathRef {
  readonly mode: number;
  /** Context depth (`../`) for P_CONTEXT, data depth (`@../`) for P_DATA. */
  readonly depth: number;
  readonly parts: readonly string[];
  /** First part to look up (1 for block params: part 0 is the param itself). */
  readonly start: number;
  /** `a && a.b` semantics (Handlebars' "falsy" lookups) instead of `a != null ? a.b : a`. */
  readonly falsy: boolean;
  readonly bpDepth: number;
  readonly bpIndex: number;
  readonly original: string;
}

export interface Expr {
  readonly k: number;
  readonly value: unknown;
  readonly path: PathRef | null;
  readonly call: Call | null;
}

export interface Call {
  readonly type: number;
  readonly path: PathRef;
  /** Name looked up among helpers, or null when a helper cannot apply. */
  readonly helperName: string | null;
  /** The built-in helper of that name, resolved when the template was compiled. */
  readonly builtin: HelperFunction | undefined;
  /** options.name as Handlebars sets it. */
  readonly optName: string;
  readonly params: readonly Expr[];
  readonly hashKeys: readonly string[] | null;
  readonly hashValues: readonly Expr[] | null;
  readonly loc: SourceLoc | undefined;
}

export interface PartialRef {
  /** Static name, or null for a dynamic `{{> (expr)}}`. */
  readonly name: string | null;
  readonly dynamic: Call | null;
  /** The context argument, or null for the current context. */
  readonly param: Expr | null;
  readonly hashKeys: readonly string[] | null;
  readonly hashValues: readonly Expr[] | null;
  /** Block of a partial block `{{#> name}}...{{/name}}`. */
  readonly program: Program | null;
  readonly indent: string;
  readonly loc: SourceLoc | undefined;
}

export interface Stmt {
  readonly k: number;
  /** One of the R_* codes. */
  run: number;
  readonly text: string;
  readonly call: Call | null;
  readonly escaped: boolean;
  readonly program: Program | null;
  readonly inverse: Program | null;
  readonly partial: PartialRef | null;
}

export interface InlineDef {
  readonly name: Expr | null;
  readonly program: Program;
}

export interface Program {
  readonly body: Stmt[];
  /** `{{#*inline "x"}}` partials declared directly in this program. */
  readonly inlines: InlineDef[] | null;
  /** Whether the template uses `../` anywhere (depths must be tracked). */
  useDepths: boolean;
  /** Whether the template declares block params anywhere (block-param frames must be kept). */
  useBlockParams: boolean;
}

export interface CompiledTemplate {
  readonly main: Program;
}

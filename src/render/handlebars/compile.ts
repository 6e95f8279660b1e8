/**
 * Handlebars AST (from Handlebars.parse, whitespace control already applied) -> interpreter IR.
 * Mirrors the decisions of Handlebars' own compiler.js (classifySexpr, PathExpression,
 * helperSexpr, ambiguousSexpr, transformLiteralToPath) without generating any code.
 * The AST is read, never mutated (Handlebars' compiler mutates it; we keep it pristine for callers).
 */
import type { SourceLoc } from "./errors.js";
import { builtinHelper } from "./helpers.js";
import {
  C_AMBIGUOUS,
  C_HELPER,
  C_KNOWN,
  C_SIMPLE,
  E_CALL,
  E_LITERAL,
  E_PATH,
  P_BLOCK_PARAM,
  P_CONTEXT,
  P_DATA,
  R_ADD,
  R_BREAK,
  R_INIT,
  R_MID_ADD,
  R_MID_LAST,
  R_MID_START,
  R_ONLY_BREAK,
  S_BLOCK,
  S_CONTENT,
  S_MUSTACHE,
  S_PARTIAL,
  type Call,
  type CompiledTemplate,
  type Expr,
  type InlineDef,
  type PartialRef,
  type PathRef,
  type Program,
  type Stmt,
} from "./ir.js";

/** Thrown for templates that parse but that Handlebars' compiler rejects (or we do not support). */
export class CompileError extends Error {
  readonly loc: SourceLoc | undefined;
  constructor(message: string, loc: SourceLoc | undefined) {
    super(message);
    this.loc = loc;
  }
}

/* Minimal view of the Handlebars AST. */
interface Node {
  type: string;
  loc?: SourceLoc;
}
interface PathNode extends Node {
  data: boolean;
  depth: number;
  parts: string[];
  original: string;
}
interface LiteralNode extends Node {
  value?: unknown;
  original?: unknown;
}
interface HashNode extends Node {
  pairs: { key: string; value: Node }[];
}
interface SexprNode extends Node {
  path: Node;
  params: Node[];
  hash?: HashNode;
}
interface ProgramNode extends Node {
  body: Node[];
  blockParams?: string[];
}
interface BlockNode extends SexprNode {
  program?: ProgramNode;
  inverse?: ProgramNode;
}
interface MustacheNode extends SexprNode {
  escaped: boolean;
}
interface PartialNode extends Node {
  name: Node;
  params: Node[];
  hash?: HashNode;
  indent?: string;
  program?: ProgramNode;
}

// Handlebars' compile-time knownHelpers (null-prototype: "constructor" etc. are not known).
const KNOWN_HELPERS: Record<string, true> = Object.assign(Object.create(null) as Record<string, true>, {
  helperMissing: true,
  blockHelperMissing: true,
  each: true,
  if: true,
  unless: true,
  with: true,
  log: true,
  lookup: true,
});

const SCOPED_ID = /^\.|this\b/;

class Builder {
  /** Block params of the enclosing programs, innermost first (Handlebars' options.blockParams). */
  private readonly bpStack: (string[] | undefined)[] = [];
  private readonly programs: Program[] = [];
  useDepths = false;
  useBlockParams = false;

  build(ast: ProgramNode): CompiledTemplate {
    const main = this.program(ast);
    for (const p of this.programs) {
      p.useDepths = this.useDepths;
      p.useBlockParams = this.useBlockParams;
    }
    return { main };
  }

  private program(node: ProgramNode): Program {
    const bps = node.blockParams;
    if (bps !== undefined && bps !== null && bps.length > 0) this.useBlockParams = true;
    this.bpStack.unshift(bps ?? undefined);
    const body: Stmt[] = [];
    let inlines: InlineDef[] | null = null;
    for (const child of node.body) {
      switch (child.type) {
        case "ContentStatement": {
          const text = (child as LiteralNode).value;
          if (typeof text === "string" && text !== "") {
            const last = body[body.length - 1];
            if (last !== undefined && last.k === S_CONTENT) body[body.length - 1] = content(last.text + text);
            else body.push(content(text));
          }
          break;
        }
        case "CommentStatement":
          break;
        case "MustacheStatement": {
          const m = child as MustacheNode;
          body.push(stmt(S_MUSTACHE, "", this.call(m, false), m.escaped, null, null, null));
          break;
        }
        case "BlockStatement": {
          const b = child as BlockNode;
          const program = b.program ? this.program(b.program) : null;
          const inverse = b.inverse ? this.program(b.inverse) : null;
          body.push(stmt(S_BLOCK, "", this.call(b, false), false, program, inverse, null));
          break;
        }
        case "PartialStatement":
        case "PartialBlockStatement":
          body.push(stmt(S_PARTIAL, "", null, false, null, null, this.partial(child as PartialNode)));
          break;
        case "DecoratorBlock":
        case "Decorator": {
          const d = child as BlockNode;
          const name = d.path.type === "PathExpression" ? (d.path as PathNode).original : String((d.path as LiteralNode).original);
          if (name !== "inline" || child.type !== "DecoratorBlock" || !d.program) {
            throw new CompileError(`Unsupported decorator: "${name}" (only {{#*inline}} is supported)`, child.loc);
          }
          const program = this.program(d.program);
          (inlines ??= []).push({ name: d.params.length > 0 ? this.expr(d.params[0]!) : null, program });
          break;
        }
        default:
          throw new CompileError(`Unknown node type: ${child.type}`, child.loc);
      }
    }
    this.bpStack.shift();
    assignRuns(body);
    const p: Program = { body, inlines, useDepths: false, useBlockParams: false };
    this.programs.push(p);
    return p;
  }

  private blockParamIndex(name: string | undefined): [number, number] | undefined {
    if (name === undefined) return undefined;
    for (let depth = 0; depth < this.bpStack.length; depth++) {
      const bps = this.bpStack[depth];
      const idx = bps ? bps.indexOf(name) : -1;
      if (idx >= 0) return [depth, idx];
    }
    return undefined;
  }

  /** Handlebars' PathExpression handler. */
  private path(node: PathNode, falsy: boolean): PathRef {
    const depth = node.depth || 0;
    if (depth > 0) this.useDepths = true;
    const parts = node.parts;
    const name = parts[0];
    const scoped = SCOPED_ID.test(node.original);
    const bp = !depth && !scoped ? this.blockParamIndex(name) : undefined;
    if (bp !== undefined) {
      return pathRef(P_BLOCK_PARAM, 0, parts, 1, false, bp[0], bp[1], node.original);
    }
    if (!name) return pathRef(P_CONTEXT, depth, [], 0, false, 0, 0, node.original);
    if (node.data) return pathRef(P_DATA, depth, parts, 0, true, 0, 0, node.original);
    return pathRef(P_CONTEXT, depth, parts, 0, falsy, 0, 0, node.original);
  }

  private expr(node: Node): Expr {
    switch (node.type) {
      case "PathExpression":
        return { k: E_PATH, value: undefined, path: this.path(node as PathNode, false), call: null };
      case "SubExpression":
        return { k: E_CALL, value: undefined, path: null, call: this.call(node as SexprNode, true) };
      case "StringLiteral":
      case "NumberLiteral":
      case "BooleanLiteral":
        return { k: E_LITERAL, value: (node as LiteralNode).value, path: null, call: null };
      case "NullLiteral":
        return { k: E_LITERAL, value: null, path: null, call: null };
      case "UndefinedLiteral":
        return { k: E_LITERAL, value: undefined, path: null, call: null };
      default:
        throw new CompileError(`Unknown expression type: ${node.type}`, node.loc);
    }
  }

  private hash(hash: HashNode | undefined): { keys: string[] | null; values: Expr[] | null } {
    if (!hash) return { keys: null, values: null };
    return { keys: hash.pairs.map((p) => p.key), values: hash.pairs.map((p) => this.expr(p.value)) };
  }

  /** classifySexpr + simpleSexpr / ambiguousSexpr / helperSexpr. */
  private call(node: SexprNode, isSubexpression: boolean): Call {
    let pathNode: PathNode;
    if (node.path.type === "PathExpression") {
      pathNode = node.path as PathNode;
    } else {
      // transformLiteralToPath: {{"foo"}}, {{12}}, {{true}} look up a property of that name.
      const original = String((node.path as LiteralNode).original);
      pathNode = { type: "PathExpression", data: false, depth: 0, parts: [original], original, loc: node.path.loc };
    }
    const params = node.params;
    const name = pathNode.parts[0];
    const isSimpleId = pathNode.parts.length === 1 && !SCOPED_ID.test(pathNode.original) && !pathNode.depth;
    const isBlockParam = isSimpleId && this.blockParamIndex(name) !== undefined;
    let isHelper = !isBlockParam && (isSubexpression || params.length > 0 || !!node.hash);
    const isEligible = !isBlockParam && (isHelper || isSimpleId);
    if (isEligible && !isHelper && name !== undefined && KNOWN_HELPERS[name]) isHelper = true;

    const paramExprs = params.map((p) => this.expr(p));
    const { keys, values } = this.hash(node.hash);
    const loc = node.loc;

    if (isHelper) {
      if (name !== undefined && KNOWN_HELPERS[name]) {
        const path = this.path(pathNode, false); // evaluated by Handlebars only for its side effects
        return call(C_KNOWN, path, name, builtinHelper(name), name, paramExprs, keys, values, loc);
      }
      const path = this.path(pathNode, true);
      const helperName = isSimpleId ? pathNode.original : null;
      return call(C_HELPER, path, helperName, helperName === null ? undefined : builtinHelper(helperName), pathNode.original, paramExprs, keys, values, loc);
    }
    if (isEligible) {
      const path = this.path(pathNode, false);
      return call(C_AMBIGUOUS, path, name!, builtinHelper(name!), name!, paramExprs, keys, values, loc);
    }
    const path = this.path(pathNode, false);
    return call(C_SIMPLE, path, null, undefined, pathNode.original, paramExprs, keys, values, loc);
  }

  private partial(node: PartialNode): PartialRef {
    if (node.params.length > 1) {
      throw new CompileError(`Unsupported number of partial arguments: ${node.params.length}`, node.loc);
    }
    const program = node.program ? this.program(node.program) : null;
    let name: string | null = null;
    let dynamic: Call | null = null;
    if (node.name.type === "SubExpression") {
      dynamic = this.call(node.name as SexprNode, true);
    } else if (node.name.type === "PathExpression") {
      name = (node.name as PathNode).original;
    } else {
      name = String((node.name as LiteralNode).original);
    }
    const param = node.params.length === 1 ? this.expr(node.params[0]!) : null;
    const { keys, values } = this.hash(node.hash);
    return { name, dynamic, param, hashKeys: keys, hashValues: values, program, indent: node.indent || "", loc: node.loc };
  }
}

const breaksRun = (s: Stmt): boolean => s.k === S_BLOCK && s.call!.type === C_AMBIGUOUS;

/** Reproduce how Handlebars' mergeSource groups appended values (see R_* in ir.ts). */
function assignRuns(body: Stmt[]): void {
  const n = body.length;
  if (n === 1 && breaksRun(body[0]!)) {
    body[0]!.run = R_ONLY_BREAK;
    return;
  }
  let i = 0;
  // A leading run initialises the buffer with its first value (no "" in front).
  for (; i < n && !breaksRun(body[i]!); i++) body[i]!.run = i === 0 ? R_INIT : R_ADD;
  while (i < n) {
    body[i]!.run = R_BREAK;
    i++;
    const start = i;
    while (i < n && !breaksRun(body[i]!)) i++;
    const len = i - start;
    if (i === n || len === 1) {
      // the final run folds into the buffer left to right; a single value is the same either way
      for (let j = start; j < i; j++) body[j]!.run = R_ADD;
    } else if (len > 1) {
      body[start]!.run = R_MID_START;
      for (let j = start + 1; j < i - 1; j++) body[j]!.run = R_MID_ADD;
      body[i - 1]!.run = R_MID_LAST;
    }
  }
}

function content(text: string): Stmt {
  return stmt(S_CONTENT, text, null, false, null, null, null);
}

function stmt(
  k: number,
  text: string,
  callNode: Call | null,
  escaped: boolean,
  program: Program | null,
  inverse: Program | null,
  partial: PartialRef | null,
): Stmt {
  return { k, run: R_ADD, text, call: callNode, escaped, program, inverse, partial };
}

function pathRef(
  mode: number,
  depth: number,
  parts: readonly string[],
  start: number,
  falsy: boolean,
  bpDepth: number,
  bpIndex: number,
  original: string,
): PathRef {
  return { mode, depth, parts: parts.slice(), start, falsy, bpDepth, bpIndex, original };
}

function call(
  type: number,
  path: PathRef,
  helperName: string | null,
  builtin: Call["builtin"],
  optName: string,
  params: Expr[],
  hashKeys: string[] | null,
  hashValues: Expr[] | null,
  loc: SourceLoc | undefined,
): Call {
  return { type, path, helperName, builtin, optName, params, hashKeys, hashValues, loc };
}

/** Build the IR for a parsed template. Throws CompileError for what Handlebars' compiler rejects. */
export function compileAst(ast: unknown): CompiledTemplate {
  return new Builder().build(ast as ProgramNode);
}

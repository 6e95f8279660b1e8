/**
 * Parsing with Handlebars' own parser (`Handlebars.parse`, which also applies its whitespace
 * control and standalone-line rules), cached by source string. Never compiles to code.
 *
 * We import the compiler's base module rather than the "handlebars" package: it exports the very
 * `parse` function and `parser` object that Handlebars.parse / Handlebars.Parser are (same AST),
 * without pulling Handlebars' code generator into the Workers bundle.
 */
import { parse as handlebarsParse, parser as handlebarsParser } from "handlebars/dist/cjs/handlebars/compiler/base.js";
import { CompileError, compileAst } from "./compile.js";
import { TemplateError } from "./errors.js";
import type { CompiledTemplate } from "./ir.js";
import { findTooDeepBlock, LIMITS } from "./limits.js";
import { positionOf } from "./source-position.js";
import { plainMistake, type ParseFailure } from "./syntax-mistakes.js";

export type TemplateAst = hbs.AST.Program;

interface Entry {
  readonly ast: TemplateAst;
  readonly compiled: CompiledTemplate;
  used: number;
}

/** Maximum number of parsed templates kept (least recently used are dropped). */
const CACHE_LIMIT = 500;

const cache = new Map<string, Entry>();
let clock = 0;

/** Position of the token the last (failed) parse stopped at: jison keeps it on the shared lexer. */
function lexerLocation(): { line?: number; column?: number } {
  const loc = handlebarsParser?.lexer?.yylloc;
  if (!loc || typeof loc.first_line !== "number") return {};
  return { line: loc.first_line, column: typeof loc.first_column === "number" ? loc.first_column + 1 : undefined };
}

/** Handlebars parse/compile failure -> TemplateError(kind "syntax") with a 1-based line and column. */
function toSyntaxError(e: unknown, source: string, partial: string | undefined): TemplateError {
  if (e instanceof TemplateError) return e;
  if (e instanceof CompileError) {
    const loc = e.loc;
    return new TemplateError("syntax", e.message, { line: loc?.start.line, column: loc === undefined ? undefined : loc.start.column + 1, partial }, e);
  }
  const failure = parserFailure(e);
  const { detail, line, column } = plainMistake(source, failure) ?? failure;
  return new TemplateError("syntax", detail, { line, column, partial }, e);
}

/** What Handlebars' parser said: its text without the grammar's noise, where, and what it got and expected. */
function parserFailure(e: unknown): ParseFailure {
  const err = e as { message?: unknown; lineNumber?: unknown; column?: unknown };
  const detail = String(err?.message ?? e);
  const parseError = /^(Parse|Lexical) error on line (\d+)[:.]\s*/.exec(detail);
  if (parseError !== null) {
    // jison's message: "Parse error on line N:\n<context>\n----^\nExpecting ..., got 'X'"
    const where = lexerLocation();
    const line = where.line ?? Number(parseError[2]);
    const column = where.column;
    const rest = detail.slice(parseError[0].length).split("\n");
    const expecting = rest.find((l) => l.startsWith("Expecting "));
    const snippet = rest.filter((l) => !l.startsWith("Expecting ") && l !== "Unrecognized text.").join("\n");
    if (parseError[1] === "Lexical") return { detail: `Unrecognized text\n${snippet}`, line, column };
    if (expecting === undefined) return { detail: `Parse error\n${snippet}`, line, column };
    const got = / got '([^']*)'$/.exec(expecting)?.[1];
    const expected = expecting.replace(/, got '[^']*'$/, "").replace(/^Expecting/, "expecting");
    return {
      detail: `Parse error${got ? `: unexpected ${got}` : ""} (${expected})\n${snippet}`,
      line,
      column,
      got,
      expecting: [...expected.matchAll(/'([^']*)'/g)].map((m) => m[1]),
    };
  }
  // Handlebars' Exception: its place in lineNumber and column, or appended as " - line:column" (0-based column).
  const m = / - (\d+):(\d+)$/.exec(detail);
  if (typeof err.lineNumber === "number") {
    return { detail: m ? detail.slice(0, m.index) : detail, line: err.lineNumber, column: typeof err.column === "number" ? err.column + 1 : undefined };
  }
  if (m !== null) return { detail: detail.slice(0, m.index), line: Number(m[1]), column: Number(m[2]) + 1 };
  return { detail };
}

function evictOldest(): void {
  let oldestKey: string | undefined;
  let oldest = Infinity;
  for (const [key, entry] of cache) {
    if (entry.used < oldest) {
      oldest = entry.used;
      oldestKey = key;
    }
  }
  if (oldestKey !== undefined) cache.delete(oldestKey);
}

/** Parse and compile to IR, cached by source. Throws TemplateError(kind "syntax"). */
export function loadTemplate(source: string, partial?: string): Entry {
  let entry = cache.get(source);
  if (entry !== undefined) {
    entry.used = ++clock;
    return entry;
  }
  if (typeof source !== "string") {
    throw new TemplateError("syntax", `template must be a string, got ${source === null ? "null" : typeof source}`, { partial });
  }
  if (source.length > LIMITS.maxTemplateLength) {
    throw new TemplateError("syntax", `template is longer than ${LIMITS.maxTemplateLength} characters`, { partial });
  }
  const tooDeep = findTooDeepBlock(source, LIMITS.maxBlockDepth);
  if (tooDeep >= 0) {
    throw new TemplateError("syntax", `blocks nested more than ${LIMITS.maxBlockDepth} deep`, { ...positionOf(source, tooDeep), partial });
  }
  let ast: TemplateAst;
  let compiled: CompiledTemplate;
  try {
    ast = handlebarsParse(source);
    compiled = compileAst(ast);
  } catch (e) {
    throw toSyntaxError(e, source, partial);
  }
  if (cache.size >= CACHE_LIMIT) evictOldest();
  entry = { ast, compiled, used: ++clock };
  cache.set(source, entry);
  return entry;
}

/** The Handlebars AST of a template (cached by source string; shared: do not mutate it). */
export function parseTemplate(source: string): TemplateAst {
  return loadTemplate(source).ast;
}

/** Compiled IR for a partial's source; errors name the partial. */
export function compilePartial(source: string, name: string): CompiledTemplate {
  return loadTemplate(source, name).compiled;
}

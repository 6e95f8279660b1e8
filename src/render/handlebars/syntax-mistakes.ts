/**
 * The common template mistakes in a plain sentence, instead of the parser's grammar ("unexpected EOF
 * (expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK')"), placed where the fix goes: a block never
 * closed, a block closed by another block's tag, a close tag with no block, a `{{` never closed, and three
 * braces closing two (or two closing three). Any other failure keeps the parser's text.
 */
import { parse as handlebarsParse } from "handlebars/dist/cjs/handlebars/compiler/base.js";
import { offsetOf, positionOf } from "./source-position.js";

/** A failed parse as the parser told it: its text and place, and for a grammar error what it got and expected. */
export interface ParseFailure {
  detail: string;
  line?: number;
  column?: number;
  got?: string;
  expecting?: string[];
}

interface Placed {
  detail: string;
  line: number;
  column: number;
}

/** Handlebars' own words for a block closed by another block's tag (its place is the open tag's name). */
const MISMATCH = /^(\S+) doesn't match (\S+)$/;
/** A close tag no user template has: parsed after the source, the parser says which block it would close. */
const PROBE_NAME = "gateway-unclosed-block-probe";
const LONGEST_QUOTE = 40;

export function plainMistake(source: string, failure: ParseFailure): Placed | undefined {
  if (failure.line === undefined || failure.column === undefined) return undefined;
  const at = offsetOf(source, failure.line, failure.column);
  const here = { line: failure.line, column: failure.column };
  const mismatch = MISMATCH.exec(failure.detail);
  if (mismatch) return closedByAnother(source, at, mismatch[1], mismatch[2]);
  const { got = "", expecting = [] } = failure;
  if (got === "EOF" && expecting.includes("OPEN_ENDBLOCK")) return neverClosedBlock(source);
  if (got === "OPEN_ENDBLOCK" && expecting.includes("EOF")) return { detail: strayCloseTag(source, at), ...here };
  if (got === "INVERSE" && expecting.includes("EOF")) return { detail: "{{else}} is outside any block: it goes between a block's tags, as in {{#if x}} … {{else}} … {{/if}}", ...here };
  if (/^CLOSE(_UNESCAPED|_RAW_BLOCK)?$/.test(got)) {
    const detail = bracesAmiss(source, at);
    return detail === undefined ? undefined : { detail, ...here };
  }
  if (got === "INVALID" || got === "EOF" || got.startsWith("OPEN")) return unclosedMustache(source, at);
  return undefined;
}

/** `{{#if x}}` … `{{/each}}`: named at the open tag, as Handlebars places it. */
function closedByAnother(source: string, at: number, open: string, close: string): Placed {
  const tag = tagAround(source, at);
  return placed(source, tag.start, `${tag.text} is closed by {{/${close}}}: it needs {{/${open}}}, and blocks close in the reverse order they open`);
}

/** The innermost block still open at the end: the one a close tag put there would have to match. */
function neverClosedBlock(source: string): Placed | undefined {
  let probe: unknown;
  try {
    handlebarsParse(`${source}{{/${PROBE_NAME}}}`);
    return undefined;
  } catch (error) {
    probe = error;
  }
  const found = /^(\S+) doesn't match \S+ - (\d+):(\d+)$/.exec(String((probe as Error)?.message));
  if (!found) return undefined;
  const tag = tagAround(source, offsetOf(source, Number(found[2]), Number(found[3]) + 1));
  return placed(source, tag.start, `${tag.text} is never closed: add {{/${found[1]}}} where its block ends`);
}

function strayCloseTag(source: string, at: number): string {
  const name = /^\{\{~?\s*\/\s*([^\s}~]+)/.exec(source.slice(at))?.[1] ?? "";
  return `{{/${name}}} closes no block: remove it, or open the block before it with {{#${name} …}}`;
}

/**
 * A tag closed with more braces than it opened with (`{{x}}}`: `}}}` closes only a `{{{`, and a `}` of the
 * text after it must be set apart), or fewer (`{{{x}}`).
 */
function bracesAmiss(source: string, at: number): string | undefined {
  const start = openingOf(source, at);
  if (start < 0) return undefined;
  const opened = source.startsWith("{{{", start) ? 3 : 2;
  const closed = /^\}*/.exec(source.slice(at))![0].length;
  const inside = quote(source.slice(start + opened, at));
  if (closed > opened) {
    const tag = `${"{".repeat(opened)}${inside}${"}".repeat(opened)}`;
    const rest = "}".repeat(closed - opened);
    return `${tag}${rest} runs braces together, which Handlebars reads as one closing tag: put a space between them (${tag} ${rest})`;
  }
  if (closed < opened) return `{{{${inside}}} opens with three braces but closes with two: write {{{${inside}}}} (inserted as it is) or {{${inside}}} (escaped)`;
  return undefined;
}

/** `{{name` with no `}}` before the parser gave up (at the end, or at the next `{{`). */
function unclosedMustache(source: string, at: number): Placed | undefined {
  const start = openingOf(source, at);
  if (start < 0 || source.slice(start, at).includes("}}")) return undefined;
  const close = source.startsWith("{{{", start) ? "}}}" : "}}";
  const next = source.indexOf("{{", start + close.length);
  const text = source.slice(start, next < 0 ? undefined : next).split("\n")[0].trimEnd();
  return placed(source, start, `${quote(text)} is not closed: end it with ${close}`);
}

/** Where the `{{` (or `{{{`) last opened before index `at` starts, or -1. */
function openingOf(source: string, at: number): number {
  let start = source.lastIndexOf("{{", at - 1);
  while (start > 0 && source[start - 1] === "{") start -= 1;
  return start;
}

/** The tag (`{{` to `}}`) holding index `at`, quoted for a message. */
function tagAround(source: string, at: number): { start: number; text: string } {
  const start = source.lastIndexOf("{{", at);
  const end = source.indexOf("}}", at);
  return { start, text: quote(source.slice(start, end < 0 ? source.length : end + 2)) };
}

/** A piece of the template short enough for a one-line message. */
function quote(text: string): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > LONGEST_QUOTE ? `${line.slice(0, LONGEST_QUOTE - 1)}…` : line;
}

function placed(source: string, index: number, detail: string): Placed {
  return { detail, ...positionOf(source, index) };
}

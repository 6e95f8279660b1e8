/** Limits that keep a template from hanging the process or exhausting memory. */
export interface Limits {
  /** Output budget per render, in UTF-16 code units (1 MiB). */
  readonly maxOutput: number;
  /** Maximum nesting of partial calls (recursive partials stop here). */
  readonly maxPartialDepth: number;
  /** Maximum number of block bodies executed in one render (nested loops over big lists). */
  readonly maxSteps: number;
  /** Maximum template (or partial) source length in UTF-16 code units. */
  readonly maxTemplateLength: number;
  /** Maximum block nesting: Handlebars' parser is super-linear in depth (2,000 levels overflow its stack). */
  readonly maxBlockDepth: number;
}

export const LIMITS: Limits = Object.freeze({
  maxOutput: 1024 * 1024,
  maxPartialDepth: 64,
  maxSteps: 1_000_000,
  maxTemplateLength: 1024 * 1024,
  maxBlockDepth: 100,
});

// {{{{raw}}}} / {{{{/raw}}}}, or {{# {{^ {{/ (with optional ~); group 3 marks {{^}} (an else).
const BLOCK_TOKEN = /\{\{\{\{(\/?)|\{\{~?\s*([#^/])(~?\s*\}\})?/g;

/**
 * Index of the first block opening that nests deeper than `max`, or -1. A cheap over-estimate
 * run before parsing (block tokens inside comments also count), so that a hostile template
 * never reaches the parser's slow path.
 */
export function findTooDeepBlock(source: string, max: number): number {
  if (source.indexOf("{{") === -1) return -1;
  let depth = 0;
  BLOCK_TOKEN.lastIndex = 0;
  for (let m = BLOCK_TOKEN.exec(source); m !== null; m = BLOCK_TOKEN.exec(source)) {
    if (m[1] !== undefined) {
      depth += m[1] === "/" ? -1 : 1;
    } else if (m[2] === "/") {
      depth--;
    } else if (!(m[2] === "^" && m[3] !== undefined)) {
      depth++;
    }
    if (depth > max) return m.index;
  }
  return -1;
}

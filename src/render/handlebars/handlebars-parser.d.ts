/// <reference types="handlebars" />
/*
 * Types for the one module of Handlebars we use at run time: the compiler's parser entry point.
 * Importing it instead of the "handlebars" package keeps Handlebars' code generator (and
 * source-map) out of the Workers bundle; Handlebars.parse and Handlebars.Parser are these very
 * objects, so the AST is identical to the oracle's.
 */
declare module "handlebars/dist/cjs/handlebars/compiler/base.js" {
  /** Handlebars.parse: the jison parser followed by WhitespaceControl (standalone lines, `~`). */
  export function parse(input: string, options?: { srcName?: string; ignoreStandalone?: boolean }): hbs.AST.Program;
  /** Handlebars.Parser, shared; after a parse error its lexer holds the offending token's position. */
  export const parser: { lexer?: { yylloc?: { first_line?: number; first_column?: number } } };
}

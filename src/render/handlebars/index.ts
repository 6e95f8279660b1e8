/**
 * Eval-free Handlebars: an interpreter over Handlebars.parse()'s AST, for runtimes that forbid
 * `new Function` (Cloudflare Workers). Output matches Handlebars 4.7.10 byte for byte.
 * Pure: no Node imports, only web-standard globals.
 */
export { TemplateError, type TemplateErrorKind } from "./errors.js";
export { escaperFor, type EscapeMode } from "./escape.js";
export { parseTemplate, type TemplateAst } from "./parse.js";
export { renderTemplate, checkTemplate, type RenderOptions } from "./render.js";
export { LIMITS, type Limits } from "./limits.js";
export { helperNames, gatewayHelpers } from "./helpers.js";
export { SafeString } from "./safe-string.js";
export { HelperOptions, type ProgramFn, type ProgramOptions } from "./helper-options.js";
export type { HelperFunction } from "./ir.js";

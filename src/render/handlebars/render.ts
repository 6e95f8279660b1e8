import { TemplateError, toRenderError } from "./errors.js";
import { escaperFor, type EscapeMode } from "./escape.js";
import type { HelperFunction } from "./ir.js";
import { RenderState, runMain } from "./interpreter.js";
import { LIMITS } from "./limits.js";
import { compilePartial, loadTemplate } from "./parse.js";
import { checkHelperReferences } from "./helper-references.js";
import { checkPartialReferences } from "./partial-references.js";
import type { PartialScope } from "./scope.js";

export interface RenderOptions {
  /** name -> template source (loaded by the caller, e.g. from templates/partials/). */
  partials?: Record<string, string>;
  /** How `{{x}}` is escaped; `{{{x}}}` and SafeString output never are. Default "html". */
  escape?: EscapeMode;
  /**
   * Extra helpers (Handlebars calling convention: `helper.call(this, ...params, options)`);
   * they take precedence over built-ins of the same name. Own properties only.
   */
  helpers?: Record<string, HelperFunction>;
}

const EMPTY_PARTIALS: PartialScope = Object.freeze(Object.create(null) as PartialScope);
const hasOwn = Object.prototype.hasOwnProperty;

function partialScope(partials: Record<string, string> | undefined): PartialScope {
  if (partials == null) return EMPTY_PARTIALS;
  const scope = Object.create(null) as PartialScope;
  for (const name of Object.keys(partials)) {
    const source = partials[name];
    if (typeof source !== "string") {
      throw new TemplateError("render", `partial "${name}" must be a template string`);
    }
    scope[name] = source; // null prototype: even "__proto__" is a plain own key here
  }
  return scope;
}

function helperTable(helpers: Record<string, HelperFunction> | undefined): Record<string, HelperFunction> | null {
  if (helpers == null) return null;
  const table = Object.create(null) as Record<string, HelperFunction>;
  let any = false;
  for (const name of Object.keys(helpers)) {
    if (!hasOwn.call(helpers, name)) continue;
    const fn = helpers[name];
    if (typeof fn !== "function") throw new TemplateError("render", `helper "${name}" must be a function`);
    table[name] = fn; // null prototype: even "__proto__" is a plain own key here
    any = true;
  }
  return any ? table : null;
}

/**
 * Render a Handlebars template against `context`.
 * Throws TemplateError: kind "syntax" if the template (or a partial) does not parse, kind "render"
 * for e.g. a missing partial, a helper error, or a limit exceeded.
 */
export function renderTemplate(source: string, context: unknown, options: RenderOptions = {}): string {
  const tpl = loadTemplate(source).compiled;
  let escape;
  try {
    escape = escaperFor(options.escape ?? "html");
  } catch (e) {
    throw new TemplateError("render", (e as Error).message);
  }
  const st = new RenderState(escape, helperTable(options.helpers), LIMITS, compilePartial);
  const cont = { partials: partialScope(options.partials), name: undefined };
  let out: string;
  try {
    out = "" + (runMain(st, tpl, cont, context, { root: context }) as string);
  } catch (e) {
    throw toRenderError(e, undefined, undefined);
  }
  if (out.length > LIMITS.maxOutput) {
    throw new TemplateError("render", `output exceeds the limit of ${LIMITS.maxOutput} characters`);
  }
  return out;
}

/**
 * Check that a template and the given partials parse (and that Handlebars' compiler would
 * accept them). Throws TemplateError(kind "syntax") with line/column. With `partials` (the gateway's
 * check, which registers no helpers of its own), a `{{> name}}` of none of them is refused too, and so is
 * a call with arguments to a name that is no helper; without, both only fail when rendered.
 */
export function checkTemplate(source: string, partials?: Record<string, string>): void {
  const { compiled } = loadTemplate(source);
  if (partials == null) return;
  checkPartialReferences(compiled.main, partials);
  checkHelperReferences(compiled.main);
  for (const name of Object.keys(partials)) {
    const partial = partials[name];
    if (typeof partial !== "string") throw new TemplateError("syntax", "partial must be a template string", { partial: name });
    loadTemplate(partial, name);
  }
}

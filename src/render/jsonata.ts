import jsonata from "jsonata";
import { regexHazard } from "./regex-safety.js";

/** JSONata limits per evaluation: a runaway expression fails its delivery, not the process. */
export const EXPRESSION_LIMITS = { timeoutMs: 250, stackDepth: 200, maxSequence: 100_000 };
const CACHE_SIZE = 1_000;

type Expression = ReturnType<typeof jsonata>;

/** A JSONata expression that does not compile or fails while evaluating; `position` is a character offset. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly position: number | undefined,
  ) {
    super(message);
    this.name = "ExpressionError";
  }
}

const cache = new Map<string, Expression>();

/**
 * The longest text a regular expression is matched against. The patterns a rule may hold take at worst
 * about quadratic time in the text's length (see regex-safety.ts), which is quick at the length of an event's
 * text fields (2,048) and would not be on a payload-sized string.
 */
export const MAX_REGEX_INPUT = 4_096;

/** The RegExp JSONata evaluates with: refuses, as an evaluation error, a text too long to match safely. */
class BoundedRegExp extends RegExp {
  override exec(text: string): RegExpExecArray | null {
    if (text.length > MAX_REGEX_INPUT) {
      throw new Error(`a regular expression is matched against at most ${MAX_REGEX_INPUT} characters; this text has ${text.length}`);
    }
    return super.exec(text);
  }
}

function asExpressionError(error: unknown, prefix: string): ExpressionError {
  const e = error as { message?: string; code?: string; position?: number; token?: string };
  const where = e.position !== undefined ? ` at position ${e.position}` : "";
  return new ExpressionError(`${prefix}${where}: ${e.message ?? String(error)}`, e.code, e.position);
}

/** The regular expression literals (`/.../i`) anywhere in a parsed expression, with their positions. */
function regexLiterals(node: unknown, found: Array<{ regex: RegExp; position?: number }> = [], seen = new Set<object>()) {
  if (node === null || typeof node !== "object" || seen.has(node)) return found;
  seen.add(node);
  const { type, value, position } = node as { type?: unknown; value?: unknown; position?: number };
  if (type === "regex" && value instanceof RegExp) found.push({ regex: value, position });
  for (const inner of Object.values(node)) regexLiterals(inner, found, seen);
  return found;
}

/**
 * A regex runs as one uninterruptible step, beyond the reach of the time limit: one that can backtrack
 * catastrophically is refused when the expression compiles (so on save, preview and delivery alike).
 */
function refuseUnsafeRegexes(ast: unknown): void {
  for (const { regex, position } of regexLiterals(ast)) {
    const hazard = regexHazard(regex.source, regex.flags);
    if (!hazard) continue;
    const where = position !== undefined ? ` at position ${position}` : "";
    throw new ExpressionError(`unsafe regular expression${where}: /${regex.source}/: ${hazard}`, "unsafe_regex", position);
  }
}

/** Compiles once and caches (JSONata 2.2.2+ is safe to evaluate concurrently from one compiled expression). */
export function compileExpression(source: string): Expression {
  const hit = cache.get(source);
  if (hit) return hit;
  let compiled: Expression;
  try {
    compiled = jsonata(source, {
      timeout: EXPRESSION_LIMITS.timeoutMs,
      stack: EXPRESSION_LIMITS.stackDepth,
      sequence: EXPRESSION_LIMITS.maxSequence,
      RegexEngine: BoundedRegExp,
    } as Parameters<typeof jsonata>[1]);
  } catch (error) {
    throw asExpressionError(error, "syntax error");
  }
  refuseUnsafeRegexes(compiled.ast());
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(source, compiled);
  return compiled;
}

export async function evaluateExpression(source: string, context: unknown): Promise<unknown> {
  const expression = compileExpression(source);
  try {
    return await expression.evaluate(context);
  } catch (error) {
    throw asExpressionError(error, "evaluation failed");
  }
}

import jsonata from "jsonata";

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

function asExpressionError(error: unknown, prefix: string): ExpressionError {
  const e = error as { message?: string; code?: string; position?: number; token?: string };
  const where = e.position !== undefined ? ` at position ${e.position}` : "";
  return new ExpressionError(`${prefix}${where}: ${e.message ?? String(error)}`, e.code, e.position);
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
    } as Parameters<typeof jsonata>[1]);
  } catch (error) {
    throw asExpressionError(error, "syntax error");
  }
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

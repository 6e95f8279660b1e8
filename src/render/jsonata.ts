import jsonata from "jsonata";
import { useBoundedFunctions } from "./jsonata-functions.js";
import { regexHazard } from "./regex-safety.js";
import { yieldIfSliceLong } from "./time-slice.js";

/**
 * JSONata limits per evaluation: a runaway expression fails its delivery, not the process. Steps as well as
 * time: the time limit reads the clock, which a deployed Worker stops during CPU work (it moves with I/O
 * only), so there a runaway expression would run on until the Worker's CPU limit ended the whole request.
 * Half a million steps is some 200 ms of work here, about the time limit on Node.
 */
export const EXPRESSION_LIMITS = { timeoutMs: 250, stackDepth: 200, maxSequence: 100_000, maxSteps: 500_000 };
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

/** A compiled expression, and its steps when it is a plain path of names (`agent.extension`). */
interface Compiled {
  expression: Expression;
  path: string[] | null;
}

const cache = new Map<string, Compiled>();

const NAME_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Words that are not field names to JSONata (literals, operators). */
const NOT_NAMES = new Set(["and", "or", "in", "true", "false", "null", "function"]);

function plainPathOf(source: string): string[] | null {
  const trimmed = source.trim();
  if (!NAME_PATH.test(trimmed)) return null;
  const steps = trimmed.split(".");
  return steps.some((step) => NOT_NAMES.has(step)) ? null : steps;
}

const UNSURE = Symbol("unsure");

/**
 * What JSONata yields for a plain path, found by looking the names up, for the common case of objects down
 * to a scalar: most params are such paths, and JSONata's evaluator allocates heavily for each. Anything else
 * (an array on the way, an object at the end, an inherited name) is `UNSURE` and left to JSONata.
 */
function lookUp(path: string[], context: unknown): unknown {
  let value = context;
  for (const step of path) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return UNSURE;
    if (!Object.hasOwn(value, step)) return step in value ? UNSURE : undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? value : UNSURE;
}

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
function compiled(source: string): Compiled {
  const hit = cache.get(source);
  if (hit) return hit;
  let expression: Expression;
  try {
    expression = jsonata(source, {
      timeout: EXPRESSION_LIMITS.timeoutMs,
      stack: EXPRESSION_LIMITS.stackDepth,
      sequence: EXPRESSION_LIMITS.maxSequence,
      RegexEngine: BoundedRegExp,
    } as Parameters<typeof jsonata>[1]);
  } catch (error) {
    throw asExpressionError(error, "syntax error");
  }
  refuseUnsafeRegexes(expression.ast());
  useBoundedFunctions(expression);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  const entry = { expression, path: plainPathOf(source) };
  cache.set(source, entry);
  return entry;
}

/** Compiles (once) or throws an ExpressionError saying what is wrong with the expression. */
export function compileExpression(source: string): Expression {
  return compiled(source).expression;
}

/**
 * Evaluations take turns. JSONata's time limit is wall time from the start of an evaluation, and
 * evaluations started together (the rules of one event, requests answered by one database reply)
 * interleave at each step: each would be charged for the others, so a rule that previews in 60 ms could
 * time out at ingest beside four like it. They are CPU work with no I/O, so taking turns costs nothing.
 * A turn is awaited only while another evaluation is running, so no pending promise is shared between
 * requests when there is nothing to wait for.
 *
 * A turn held past ABANDONED_TURN_MS is taken as abandoned and the next evaluation goes ahead: a live one
 * ends within its time limit (on a Worker the clock even stands still while it runs), but a Worker whose
 * request was ended mid-evaluation (its CPU limit) never reaches `finally`, and every later evaluation of
 * the isolate would wait for ever.
 */
const ABANDONED_TURN_MS = 10 * EXPRESSION_LIMITS.timeoutMs;
let turnTakenAt: number | undefined;
const waitingTurns: Array<() => void> = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const held = turnTakenAt !== undefined && Date.now() - turnTakenAt <= ABANDONED_TURN_MS;
  if (held) await new Promise<void>((resolve) => waitingTurns.push(resolve));
  turnTakenAt = Date.now();
  try {
    // One evaluation at a time holds the event loop: events x rules of them in a row would hold it for all.
    await yieldIfSliceLong();
    turnTakenAt = Date.now();
    return await work();
  } finally {
    const next = waitingTurns.shift();
    if (next) next();
    else turnTakenAt = undefined;
  }
}

/** JSONata's hook called as each step of an evaluation begins, looked up in the expression's bindings. */
const STEP_HOOK = Symbol.for("jsonata.__evaluate_entry");

/** What JSONata's hook is given of an evaluation: its base frame, whose `guardrails` it calls at every step. */
interface EvaluationFrame {
  base: { guardrails(): void };
}

/**
 * Evaluates with a budget of steps. On its first step the evaluation's own per-step check (depth, time) is
 * wrapped to count steps too, and the hook unbinds itself: counting costs an increment per step, where a
 * hook left bound would be awaited at every step. Evaluations take turns, so the hook is this one's.
 */
function evaluateCounted(expression: Expression, context: unknown): Promise<unknown> {
  let steps = 0;
  expression.assign(STEP_HOOK as unknown as string, (_node: unknown, _input: unknown, frame: EvaluationFrame) => {
    expression.assign(STEP_HOOK as unknown as string, undefined);
    const check = frame.base.guardrails;
    frame.base.guardrails = () => {
      if (++steps > EXPRESSION_LIMITS.maxSteps) {
        throw new Error(`Evaluation took more than ${EXPRESSION_LIMITS.maxSteps} steps. Check for an endless loop`);
      }
      check();
    };
  });
  return expression.evaluate(context);
}

export async function evaluateExpression(source: string, context: unknown): Promise<unknown> {
  const { expression, path } = compiled(source);
  const found = path ? lookUp(path, context) : UNSURE;
  if (found !== UNSURE) return found;
  try {
    return await inTurn(() => evaluateCounted(expression, context));
  } catch (error) {
    throw asExpressionError(error, "evaluation failed");
  }
}

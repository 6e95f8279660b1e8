import { TemplateError } from "./errors.js";
import { gatewayHelpers } from "./helpers.js";
import { C_HELPER, E_CALL, type Call, type Expr, type Program } from "./ir.js";
import { programsIn } from "./partial-references.js";

/** The helpers a template may call, as the error names them: Handlebars' block helpers, then the gateway's. */
const CALLABLE = ["if", "unless", "each", "with", "lookup", "log", ...Object.keys(gatewayHelpers)].join(", ");

/** Every call in an expression: itself, then those in its arguments (subexpressions). */
function* callsIn(expr: Expr | null): Generator<Call> {
  if (expr?.k !== E_CALL || !expr.call) return;
  yield* callsOf(expr.call);
}

function* callsOf(call: Call): Generator<Call> {
  yield call;
  for (const arg of [...call.params, ...(call.hashValues ?? [])]) yield* callsIn(arg);
}

/** Every call a program makes directly: mustaches, blocks, partial names and arguments. */
function* programCalls(program: Program): Generator<Call> {
  for (const stmt of program.body) {
    if (stmt.call) yield* callsOf(stmt.call);
    const partial = stmt.partial;
    if (!partial) continue;
    if (partial.dynamic) yield* callsOf(partial.dynamic);
    for (const arg of [partial.param, ...(partial.hashValues ?? [])]) yield* callsIn(arg);
  }
}

/**
 * Throws for the first call with arguments of a name that is no helper (`{{uppercase status}}`): the
 * event and settings are plain JSON, so no value of theirs can be called, and rendering would fail
 * "Missing helper" for every event that reaches it. For a gateway that registers no helpers of its own.
 */
export function checkHelperReferences(main: Program): void {
  for (const program of programsIn(main)) {
    for (const call of programCalls(program)) {
      if (call.type !== C_HELPER || call.builtin !== undefined || call.params.length === 0) continue;
      const loc = call.loc?.start;
      throw new TemplateError(
        "render",
        `Missing helper: "${call.optName}": the helpers are ${CALLABLE} (a field takes no arguments: {{src}})`,
        loc ? { line: loc.line, column: loc.column + 1 } : {},
      );
    }
  }
}

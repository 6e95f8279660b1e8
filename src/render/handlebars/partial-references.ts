import { TemplateError } from "./errors.js";
import { E_LITERAL, S_PARTIAL, type PartialRef, type Program } from "./ir.js";

/** Every program under `program`: block bodies and inverses, partial blocks, inline partials. */
export function* programsIn(program: Program): Generator<Program> {
  yield program;
  for (const inline of program.inlines ?? []) yield* programsIn(inline.program);
  for (const stmt of program.body) {
    for (const inner of [stmt.program, stmt.inverse, stmt.partial?.program]) if (inner) yield* programsIn(inner);
  }
}

/**
 * Throws for the first `{{> name}}` whose partial is neither among `partials` nor declared in the template
 * with `{{#*inline "name"}}`: rendering would fail for every event. A dynamic `{{> (expr)}}`, a partial block
 * (which renders its own body when the partial is missing) and `@partial-block` depend on the render.
 */
export function checkPartialReferences(main: Program, partials: Record<string, string>): void {
  const programs = [...programsIn(main)];
  const inline = new Set(
    programs.flatMap((program) => (program.inlines ?? []).map((def) => (def.name?.k === E_LITERAL ? String(def.name.value) : null))),
  );
  const references = programs.flatMap((program) => program.body.filter((stmt) => stmt.k === S_PARTIAL).map((stmt) => stmt.partial!));
  const missing = references.find(
    (ref: PartialRef) => ref.name !== null && !ref.program && !ref.name.startsWith("@") && !Object.hasOwn(partials, ref.name) && !inline.has(ref.name),
  );
  if (missing) {
    const loc = missing.loc?.start;
    throw new TemplateError("render", `The partial ${missing.name} could not be found`, loc ? { line: loc.line, column: loc.column + 1 } : {});
  }
}

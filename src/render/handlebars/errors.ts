/**
 * The one error type the renderer throws.
 *
 * `line` is 1-based. `column` is 1-based as well (Handlebars' own AST columns are 0-based;
 * we add 1 so that the numbers match what an editor shows). The message reads
 * `line 3, column 7: <detail>`, prefixed with `partial "name", ` when the error is inside a partial.
 */
export type TemplateErrorKind = "syntax" | "render";

interface TemplateErrorWhere {
  line?: number;
  column?: number;
  partial?: string;
}

export class TemplateError extends Error {
  readonly kind: TemplateErrorKind;
  /** 1-based line, where known. */
  readonly line?: number;
  /** 1-based column, where known. */
  readonly column?: number;
  /** Name of the partial the error is in, if not the main template. */
  readonly partial?: string;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(kind: TemplateErrorKind, detail: string, where: TemplateErrorWhere = {}, cause?: unknown) {
    super(formatMessage(detail, where), cause === undefined ? undefined : { cause });
    this.name = "TemplateError";
    this.kind = kind;
    this.detail = detail;
    if (where.line !== undefined) this.line = where.line;
    if (where.column !== undefined) this.column = where.column;
    if (where.partial !== undefined) this.partial = where.partial;
  }
}

function formatMessage(detail: string, where: TemplateErrorWhere): string {
  const prefix: string[] = [];
  if (where.partial !== undefined) prefix.push(`partial "${where.partial}"`);
  if (where.line !== undefined) {
    prefix.push(where.column !== undefined ? `line ${where.line}, column ${where.column}` : `line ${where.line}`);
  }
  return prefix.length > 0 ? `${prefix.join(", ")}: ${detail}` : detail;
}

/** Source location as Handlebars records it (0-based columns). */
export interface SourceLoc {
  start: { line: number; column: number };
  end: { line: number; column: number };
}

/** Turn anything thrown while rendering into a TemplateError (kind "render"); TemplateErrors pass through. */
export function toRenderError(e: unknown, loc: SourceLoc | undefined, partial: string | undefined): TemplateError {
  if (e instanceof TemplateError) return e;
  let detail = e instanceof Error ? e.message : String(e);
  let line = loc?.start.line;
  let column = loc === undefined ? undefined : loc.start.column + 1;
  // Handlebars' Exception appends " - line:column" (0-based column) when it knows the node.
  const m = / - (\d+):(\d+)$/.exec(detail);
  if (m !== null) {
    detail = detail.slice(0, m.index);
    line = Number(m[1]);
    column = Number(m[2]) + 1;
  }
  if (e instanceof RangeError && /call stack/i.test(detail)) detail = "template nesting too deep (call stack exhausted)";
  return new TemplateError("render", detail, { line, column, partial }, e);
}

import { z } from "zod";

const fieldProblemSchema = z.object({ field: z.string(), message: z.string() });
export type FieldProblem = z.infer<typeof fieldProblemSchema>;

/**
 * What an error's `details` may carry: each invalid field (400, 422), the rules naming a source (409), or how
 * long to wait (429). One definition for the code that throws them and the error body /openapi.json shows.
 */
export const errorDetailsSchema = z.union([
  z.array(fieldProblemSchema).meta({ description: "Each invalid field: `[{field, message}]`" }),
  z.object({ webhook_ids: z.array(z.string()) }).meta({ description: "The webhook rules that name the source" }),
  z.object({ retry_after_seconds: z.number().int() }).meta({ description: "Seconds to wait, as `Retry-After` says" }),
]);
export type ErrorDetails = z.infer<typeof errorDetailsSchema>;

/** An error a caller can act on: it carries its HTTP status, a stable code and, where it helps, which field is wrong. */
export class GatewayError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = "GatewayError";
  }
}

type Issue = z.core.$ZodRawIssue;

const UNITS: Record<string, [string, string]> = { string: ["character", "characters"], array: ["item", "items"], set: ["item", "items"] };

function countOf(origin: unknown, n: number): string {
  const unit = UNITS[String(origin)];
  return unit ? `${n} ${n === 1 ? unit[0] : unit[1]}` : String(n);
}

/**
 * zod's own messages in the words of this API ("must be at most 20", not "Too big: expected number to be
 * <=20"), for the checks a schema gives no message of its own; undefined leaves zod's.
 */
function plainMessage(issue: Issue): string | undefined {
  switch (issue.code) {
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "string" && min === 1) return "must not be empty";
      if (issue.origin === "array" && min === 1) return "must have at least one item";
      const verb = issue.origin === "array" || issue.origin === "set" ? "must have" : "must be";
      return issue.inclusive === false ? `${verb} more than ${countOf(issue.origin, min)}` : `${verb} at least ${countOf(issue.origin, min)}`;
    }
    case "too_big": {
      const max = Number(issue.maximum);
      const verb = issue.origin === "array" || issue.origin === "set" ? "must have" : "must be";
      return issue.inclusive === false ? `${verb} less than ${countOf(issue.origin, max)}` : `${verb} at most ${countOf(issue.origin, max)}`;
    }
    case "invalid_type":
      return issue.input === undefined ? "is required" : `must be ${/^[aeio]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
    case "invalid_value":
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of ${issue.values.map((v: unknown) => JSON.stringify(v)).join(", ")}`;
    case "invalid_key":
      return issue.issues[0]?.message;
    default:
      return undefined;
  }
}

z.config({ customError: plainMessage });

export function fieldProblems(error: z.ZodError, prefix = ""): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    if (keys.length) {
      return { field: keys.map((k) => (path ? `${path}.${k}` : k)).join(", "), message: "unknown field" };
    }
    return { field: path || "(body)", message: issue.message };
  });
}

/** The problems in one line: `field: message; field: message`. */
export function problemsText(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join("; ");
}

/** 400 naming every invalid field. */
function invalidInput(error: z.ZodError, prefix = ""): GatewayError {
  const details = fieldProblems(error, prefix);
  return new GatewayError(400, "invalid_request", `Invalid request: ${problemsText(details)}`, details);
}

export const notFound = (what: string, id: string) => new GatewayError(404, "not_found", `${what} ${id} not found`);

/** Parses with a zod schema, or throws a 400 that names each invalid field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix = ""): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(result.error, prefix);
  return result.data;
}

/** The value, or a 404 naming what was looked for. */
export function found<T>(value: T | null | undefined, what: string, id: string): T {
  if (value === null || value === undefined) throw notFound(what, id);
  return value;
}

/** 400 for one invalid field. */
export function invalidField(field: string, message: string): GatewayError {
  return new GatewayError(400, "invalid_request", `${field}: ${message}`, [{ field, message }]);
}

/** drizzle's "Failed query" messages end with the statement's values, which may be a call's data or a rendered body. */
const QUERY_PARAMS = /\nparams: [^]*?(?=\n {4}at |$)/;

/**
 * An error for a log line, with the errors it wraps: drizzle and D1 keep the database's reason in `cause`
 * ("Failed query: …" says only what was asked). `withStack` starts with the outer error's stack. A query's
 * values are left out: logs carry no request bodies.
 */
export function errorText(error: unknown, withStack = false): string {
  const withoutParams = (text: string) => text.replace(QUERY_PARAMS, "\nparams: (not logged)");
  let text = withoutParams(withStack && error instanceof Error && error.stack ? error.stack : String(error));
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    text += `\ncaused by: ${withoutParams(String(cause))}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

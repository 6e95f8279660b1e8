import { GatewayError, problemsText, type FieldProblem } from "../domain/errors.js";
import type { WebhookSpec } from "../domain/webhook.js";
import { compileExpression } from "./jsonata.js";
import { checkTemplate } from "./handlebars/index.js";

type CheckedRule = Pick<WebhookSpec, "filter" | "params" | "body_template" | "url" | "headers"> & Partial<Pick<WebhookSpec, "sqs">>;

function problem(field: string, check: () => unknown): FieldProblem[] {
  try {
    check();
    return [];
  } catch (error) {
    return [{ field, message: (error as Error).message }];
  }
}

/**
 * Compiles every expression and template of a rule; a 422 lists each one that does not compile and where.
 * Run when a rule is saved or previewed, so that a broken rule never reaches the delivery path.
 */
export function checkRule(rule: CheckedRule, partials: Record<string, string>): void {
  const problems: FieldProblem[] = [];
  if (rule.filter !== null) problems.push(...problem("filter", () => compileExpression(rule.filter!)));
  if (typeof rule.params === "string") {
    problems.push(...problem("params", () => compileExpression(rule.params as string)));
  } else if (rule.params) {
    for (const [name, expr] of Object.entries(rule.params)) {
      problems.push(...problem(`params.${name}`, () => compileExpression(expr)));
    }
  }
  if (rule.body_template !== null) {
    problems.push(...problem("body_template", () => checkTemplate(rule.body_template!, partials)));
  }
  problems.push(...problem("url", () => checkTemplate(rule.url, partials)));
  for (const [name, value] of Object.entries(rule.headers)) {
    problems.push(...problem(`headers.${name}`, () => checkTemplate(value, partials)));
  }
  const group = rule.sqs?.message_group_id;
  if (group) problems.push(...problem("sqs.message_group_id", () => checkTemplate(group, partials)));
  if (problems.length) {
    throw new GatewayError(422, "invalid_rule", `The rule does not compile: ${problemsText(problems)}`, problems);
  }
}

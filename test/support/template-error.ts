import { expect } from "vitest";
import { TemplateError } from "../../src/render/handlebars/index.js";

/** The TemplateError that `fn` throws; fails the test if it throws anything else or nothing. */
export function renderError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error("expected a TemplateError");
}

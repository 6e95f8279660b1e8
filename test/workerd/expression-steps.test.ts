import { describe, expect, it, vi } from "vitest";
import { evaluateExpression, EXPRESSION_LIMITS } from "../../src/render/jsonata.js";

// A deployed Worker's clock moves with I/O only, so JSONata's time limit cannot end a runaway expression
// there: its step budget does. Here in workerd the clock moves; it is held still as in production.
describe("JSONata on Workers", () => {
  it("ends a runaway expression by its steps while the clock stands still", async () => {
    const still = vi.spyOn(Date, "now").mockReturnValue(Date.UTC(2026, 10, 22));
    try {
      await expect(evaluateExpression("$sum([1..100000].($sum([1..1000].($ * 2))))", {})).rejects.toThrow(
        `Evaluation took more than ${EXPRESSION_LIMITS.maxSteps} steps`,
      );
    } finally {
      still.mockRestore();
    }
    expect(await evaluateExpression("$sum([1..10].($ * 2))", {})).toBe(110);
  });
});

import { expect, it, vi } from "vitest";
import { evaluateExpression, EXPRESSION_LIMITS } from "../src/render/jsonata.js";

// JSONata evaluations take turns (render/jsonata.ts). On Node and on the Worker alike, a turn never given
// back, as a Worker request ended mid-evaluation by its CPU limit leaves it, must not stop every later one.

it("lets evaluations go ahead of a turn never given back", async () => {
  let now = Date.UTC(2026, 10, 22);
  const clock = vi.spyOn(Date, "now").mockImplementation(() => now);
  try {
    // An evaluation that never ends: its turn is never given back.
    let reached!: () => void;
    const hanging = new Promise<void>((resolve) => (reached = resolve));
    void evaluateExpression("hang()", { hang: () => (reached(), new Promise(() => {})) });
    await hanging;
    const queued = evaluateExpression("1 + 1", {});
    now += 10 * EXPRESSION_LIMITS.timeoutMs + 1;
    expect(await evaluateExpression("2 + 2", {})).toBe(4);
    expect(await queued).toBe(2);
  } finally {
    clock.mockRestore();
  }
});

import { describe, expect, it } from "vitest";
import { backoffMs, DEFAULT_SCHEDULE, nextStep, retryAfterMs, verdictFor } from "../src/delivery/policy.js";

describe("delivery policy", () => {
  it("classifies responses: 2xx delivered, 410 gone, most 4xx final, the rest retried", () => {
    const cases: Array<[number | null, string]> = [
      [200, "delivered"], [204, "delivered"], [301, "retry"], [400, "fail"], [401, "fail"], [404, "fail"],
      [408, "retry"], [409, "retry"], [410, "gone"], [425, "retry"], [429, "retry"], [500, "retry"],
      [503, "retry"], [null, "retry"],
    ];
    for (const [status, verdict] of cases) expect([status, verdictFor(status)]).toEqual([status, verdict]);
  });

  it("backs off exponentially with bounded jitter, capped", () => {
    const middle = [1, 2, 3, 4].map((retry) => backoffMs(retry, DEFAULT_SCHEDULE, 0.5));
    expect(middle).toEqual([5_000, 30_000, 180_000, 1_080_000]);
    expect(backoffMs(1, DEFAULT_SCHEDULE, 0)).toBe(4_000);
    expect(backoffMs(1, DEFAULT_SCHEDULE, 0.999_999)).toBe(6_000);
    expect(backoffMs(30, DEFAULT_SCHEDULE, 0.999)).toBe(DEFAULT_SCHEDULE.maxDelayMs);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-11-20T12:00:00Z");
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs("Fri, 20 Nov 2026 12:01:30 GMT", now)).toBe(90_000);
    expect(retryAfterMs("Fri, 20 Nov 2026 11:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });

  it("stops after the last allowed attempt and prefers Retry-After to the backoff", () => {
    expect(nextStep("retry", 4, 4, null, DEFAULT_SCHEDULE, 0.5)).toEqual({ kind: "failed", reason: "retries exhausted" });
    expect(nextStep("retry", 1, 4, 7_000, DEFAULT_SCHEDULE, 0.5)).toEqual({ kind: "retry", delayMs: 7_000 });
    expect(nextStep("retry", 2, 4, null, DEFAULT_SCHEDULE, 0.5)).toEqual({ kind: "retry", delayMs: 30_000 });
    expect(nextStep("fail", 1, 4, null, DEFAULT_SCHEDULE, 0.5).kind).toBe("failed");
    expect(nextStep("gone", 1, 4, null, DEFAULT_SCHEDULE, 0.5).kind).toBe("gone");
  });
});

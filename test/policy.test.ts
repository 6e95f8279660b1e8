import { describe, expect, it } from "vitest";
import { backoffMs, DEFAULT_SCHEDULE, nextStep, retryAfterMs, SQS_ERROR_VERDICTS, sqsVerdictFor, verdictFor } from "../src/delivery/policy.js";
import { judgeSqsReply } from "../src/delivery/sqs.js";

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
    expect(retryAfterMs("Friday, 20-Nov-26 12:01:30 GMT", now)).toBe(90_000);
    expect(retryAfterMs("Fri Nov 20 12:01:30 2026", now)).toBe(90_000);
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });

  it("ignores a Retry-After that is neither whole seconds nor an HTTP date, which Date.parse would take for a date", () => {
    const now = Date.parse("2026-11-20T12:00:00Z");
    for (const header of ["1.5", "-1", "+30", "2026-11-20T12:01:30Z", "0x10"]) expect(retryAfterMs(header, now), header).toBeNull();
  });

  it("stops after the last allowed attempt and prefers Retry-After to the backoff", () => {
    expect(nextStep("retry", 4, 4, null, DEFAULT_SCHEDULE, 0.5)).toEqual({ kind: "failed", reason: "retries exhausted" });
    expect(nextStep("retry", 1, 4, 7_000, DEFAULT_SCHEDULE, 0.5)).toEqual({ kind: "retry", delayMs: 7_000 });
    expect(nextStep("retry", 2, 4, null, DEFAULT_SCHEDULE, 0.5)).toEqual({ kind: "retry", delayMs: 30_000 });
    expect(nextStep("fail", 1, 4, null, DEFAULT_SCHEDULE, 0.5).kind).toBe("failed");
    expect(nextStep("gone", 1, 4, null, DEFAULT_SCHEDULE, 0.5).kind).toBe("gone");
  });
});

describe("SQS reply policy", () => {
  it("reads SQS's error code, in either protocol's spelling, before the status", () => {
    const cases: Array<[number, string | null, string]> = [
      [200, null, "delivered"],
      [400, "ThrottlingException", "retry"],
      [400, "RequestThrottled", "retry"],
      [400, "com.amazonaws.sqs#KmsThrottled", "retry"],
      [403, "OverLimit", "retry"],
      [500, "InternalFailure", "retry"],
      [503, "ServiceUnavailable", "retry"],
      [400, "InvalidClientTokenId", "fail"],
      [400, "com.amazon.coral.service#UnrecognizedClientException", "fail"],
      [403, "SignatureDoesNotMatch", "fail"],
      [403, "AccessDenied", "fail"],
      [400, "AWS.SimpleQueueService.NonExistentQueue", "fail"],
      [400, "com.amazonaws.sqs#QueueDoesNotExist", "fail"],
      [400, "com.amazon.coral.service#InvalidParameterValueException", "fail"],
      [400, "InvalidMessageContents", "fail"],
      [400, "KmsDisabled", "fail"],
      // Codes the table does not know fall back to the HTTP rules.
      [400, "SomethingNew", "fail"],
      [429, "SomethingNew", "retry"],
      [502, null, "retry"],
      [410, null, "gone"],
    ];
    for (const [status, code, verdict] of cases) expect([status, code, sqsVerdictFor(status, code)]).toEqual([status, code, verdict]);
    expect(new Set(Object.values(SQS_ERROR_VERDICTS))).toEqual(new Set(["retry", "fail"]));
  });

  it("takes a 2xx for a delivery only with a MessageId, and names SQS's error in the attempt log", () => {
    const json = (headers: Record<string, string> = {}) => new Headers({ "content-type": "application/x-amz-json-1.0", ...headers });
    expect(judgeSqsReply(200, json(), '{"MessageId":"7d1c","MD5OfMessageBody":"ab"}')).toEqual({ verdict: "delivered" });
    expect(judgeSqsReply(200, new Headers(), "<SendMessageResponse><SendMessageResult><MessageId>7d1c</MessageId></SendMessageResult></SendMessageResponse>")).toEqual({ verdict: "delivered" });
    expect(judgeSqsReply(200, new Headers(), "ok")).toEqual({ verdict: "fail", error: "HTTP 200 without a MessageId: not an SQS SendMessage reply" });
    expect(judgeSqsReply(400, json({ "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender" }), '{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}')).toEqual({
      verdict: "fail",
      error: "SQS AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist. (HTTP 400)",
    });
    expect(judgeSqsReply(400, json(), '{"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"}')).toEqual({
      verdict: "retry",
      error: "SQS ThrottlingException: Rate exceeded (HTTP 400)",
    });
    expect(judgeSqsReply(403, new Headers(), "<ErrorResponse><Error><Code>AccessDenied</Code><Message>Access to the resource is denied.</Message></Error></ErrorResponse>")).toEqual({
      verdict: "fail",
      error: "SQS AccessDenied: Access to the resource is denied. (HTTP 403)",
    });
    expect(judgeSqsReply(503, new Headers(), "")).toEqual({ verdict: "retry", error: "HTTP 503" });
  });
});

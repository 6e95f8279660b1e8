import type { Judgement, PresetAuth } from "./send-hooks.js";

/** The interlayer's reply codes (research/crm-apis.md). */
const CODES: Record<number, string> = {
  0: "success",
  1: "account not found",
  2: "required field missing",
  3: "field not valid",
  4: "invalid data",
  8: "token invalid (check the rule's secret_key setting)",
  9: "token expired (check the rule's secret_key setting)",
  100: "unspecified error",
};

/** Tradersoft answers 200 with a numeric `code`: anything but 0 is a failed attempt, explained in the log. */
function judge(status: number, body: string): Judgement | null {
  if (status < 200 || status >= 300) return null;
  let code: unknown;
  try {
    code = (JSON.parse(body) as { code?: unknown }).code;
  } catch {
    return { verdict: "fail", error: "Tradersoft reply is not JSON with a numeric code" };
  }
  const value = typeof code === "string" && /^\d+$/.test(code) ? Number(code) : code;
  if (typeof value !== "number") return { verdict: "fail", error: "Tradersoft reply has no numeric code" };
  if (value === 0) return { verdict: "delivered" };
  const meaning = CODES[value] ?? "unknown code";
  // Only the unspecified error may pass on its own; the others need the data or the credentials fixed.
  return { verdict: value === 100 ? "retry" : "fail", error: `Tradersoft code ${value}: ${meaning}` };
}

/** The code is read from the whole reply: one cut at the attempt log's 4 KiB would not parse. */
export const tradersoftAuth: PresetAuth = { judge, replyBytes: 64 * 1024 };

import type { CallFields } from "../domain/event.js";

type Outcome = Pick<CallFields, "status" | "hangup_cause">;

/**
 * A Q.850 end cause as the PBX Stats vocabulary (research/crm-apis.md): an answered call is ANSWERED;
 * 17 BUSY; 18, 19, 20 NO_ANSWER; 487, or the caller hanging up before an answer, CANCELED; anything else FAILED.
 */
export function outcomeOfEndCause(code: string | null, answered: boolean, endedByCaller: boolean): Outcome {
  if (answered) return { status: "answered", hangup_cause: "ANSWERED" };
  if (code === "17") return { status: "busy", hangup_cause: "BUSY" };
  if (code === "18" || code === "19" || code === "20") return { status: "no_answer", hangup_cause: "NO_ANSWER" };
  if (code === "487" || endedByCaller) return { status: "canceled", hangup_cause: "CANCELED" };
  return { status: "failed", hangup_cause: "FAILED" };
}

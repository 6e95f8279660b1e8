import type { CallFields } from "../domain/event.js";

/** How a call ended, in the PBX Stats vocabulary. */
export type Outcome = Pick<CallFields, "status" | "hangup_cause" | "bridged" | "hangup_initiator">;

/** Every outcome the adapters name, so that each PBX's words map onto the same facts. */
export const OUTCOMES = {
  answered: { status: "answered", hangup_cause: "ANSWERED", bridged: true, hangup_initiator: null },
  busy: { status: "busy", hangup_cause: "BUSY", bridged: false, hangup_initiator: null },
  no_answer: { status: "no_answer", hangup_cause: "NO_ANSWER", bridged: false, hangup_initiator: null },
  canceled: { status: "canceled", hangup_cause: "CANCELED", bridged: false, hangup_initiator: null },
  failed: { status: "failed", hangup_cause: "FAILED", bridged: false, hangup_initiator: null },
  /** A queued caller hung up waiting. */
  abandoned: { status: "canceled", hangup_cause: "CANCELED", bridged: false, hangup_initiator: "caller" },
  /** The queue or ring group gave up. */
  timed_out: { status: "no_answer", hangup_cause: "NO_ANSWER", bridged: false, hangup_initiator: "system" },
} as const satisfies Record<string, Outcome>;

/** A call not ended yet: no hangup cause so far. */
export const IN_PROGRESS = {
  ringing: { status: "ringing", hangup_cause: null, bridged: null, hangup_initiator: null },
  answered: { status: "answered", hangup_cause: null, bridged: true, hangup_initiator: null },
} as const satisfies Record<string, Outcome>;

/**
 * A Q.850 end cause as the PBX Stats vocabulary (research/crm-apis.md): an answered call is ANSWERED;
 * 17 BUSY; 18, 19, 20 NO_ANSWER; 487, or the caller hanging up before an answer, CANCELED; anything else FAILED.
 */
export function outcomeOfEndCause(code: string | null, answered: boolean, endedByCaller: boolean): Outcome {
  if (answered) return OUTCOMES.answered;
  if (code === "17") return OUTCOMES.busy;
  if (code === "18" || code === "19" || code === "20") return OUTCOMES.no_answer;
  if (code === "487" || endedByCaller) return OUTCOMES.canceled;
  return OUTCOMES.failed;
}

import { createWorker } from "../../src/runtime/worker.js";

/** The Worker as deployed, but retrying after 1 s: `queue-e2e.test.ts` waits for real Queues in real time. */
export default createWorker({ schedule: { baseDelayMs: 1_000, factor: 1, maxDelayMs: 1_000, jitter: 0 } });

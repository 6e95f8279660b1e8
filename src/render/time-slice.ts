/**
 * Rendering is CPU work with no I/O between its steps: the rules of every event of an ingest request (up to
 * 1,000 events, each rule's filter and params up to the JSONata time limit) would otherwise run as one task,
 * holding Node's event loop (every other request, the dispatcher, /health) for events x rules x that limit.
 * Callers ask `yieldIfSliceLong()` before each unit of such work; once the loop has been held for SLICE_MS it
 * lets the I/O that is ready run first. On a Worker the clock stands still during CPU work, so it never yields
 * there, where each request has its own CPU limit anyway.
 */
export const SLICE_MS = 20;

/** After the I/O ready now (setImmediate on Node); a timer where there is no setImmediate. */
const afterReadyIo: (fn: () => void) => void = typeof setImmediate === "function" ? setImmediate : (fn) => setTimeout(fn, 0);

/** When the current task began holding the loop, as far as this module has seen; undefined once the loop turned. */
let sliceStartedAt: number | undefined;

function sliceStartedNow(): void {
  sliceStartedAt = Date.now();
  // Runs at the loop's next turn, which ends the slice whether or not anyone here yielded.
  afterReadyIo(() => (sliceStartedAt = undefined));
}

/** Resolves at once, or after the ready I/O has been handled when this task has held the loop for SLICE_MS or more. */
export async function yieldIfSliceLong(): Promise<void> {
  if (sliceStartedAt === undefined) return sliceStartedNow();
  if (Date.now() - sliceStartedAt < SLICE_MS) return;
  await new Promise<void>((resolve) => afterReadyIo(resolve));
  // What follows is a new slice, whether or not its work asks again before it ends.
  sliceStartedNow();
}

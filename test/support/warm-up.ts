import { callEvent } from "./events.js";
import { createSource, createWebhook, ingest, type TestGateway } from "./gateway.js";
import type { Receiver } from "./receiver.js";

// Apart from gateway.ts, which scripts run outside the test runner import (events.ts needs the runner's glob).

/**
 * One source and one rule to `receiver`, and an event delivered through them: the gateway has read its sources
 * and rules into memory, so that a database lock held afterwards (holdWriteLock) stalls event writes and reads
 * only. Returns the source.
 */
export async function warmUp(gw: TestGateway, receiver: Receiver): Promise<{ id: string; secret: string }> {
  const source = await createSource(gw);
  await createWebhook(gw, { url: `${receiver.url}/calls` });
  const answer = await ingest(gw, source, callEvent({ uniqueid: "before" }));
  if (answer.status !== 202) throw new Error(`warm-up ingest answered ${answer.status}`);
  await receiver.waitFor(1);
  await gw.settle();
  return source;
}

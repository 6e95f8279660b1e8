import { expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createWebhook, deliveriesOf, ingest } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";

// Node only: a Worker's clock stands still during CPU work, and each of its requests has its own CPU limit.
const t = gatewayPerTest();

/** A filter that runs until JSONata's step limit ends it: the most one evaluation may cost. */
const SLOWEST_FILTER = "$sum([1..99999].($ % 7)) + $sum([1..99999].($ % 7)) + $sum([1..99999].($ % 7)) > 0";

it("answers other requests while an ingest batch runs a rule's slowest filter for each of its events", async () => {
  await createWebhook(t.gw, { url: t.receiver.url, filter: SLOWEST_FILTER });
  const events = Array.from({ length: 30 }, () => callEvent());
  let ingestAnswered = false;
  const batch = ingest(t.gw, t.source, events).finally(() => (ingestAnswered = true));
  // Before, the batch held the event loop from its first filter to its last: nothing else was answered meanwhile.
  let answeredMeanwhile = 0;
  while (!ingestAnswered) {
    const health = await t.gw.send("/health", {});
    if (!ingestAnswered && health.status === 200) answeredMeanwhile += 1;
  }
  const { status, body } = await batch;
  expect(status).toBe(202);
  expect(body.events).toHaveLength(30);
  expect(answeredMeanwhile).toBeGreaterThanOrEqual(5);
  // Each event's filter still ran to its limit (steps, or time on a loaded machine) and failed its delivery visibly.
  const [delivery] = await deliveriesOf(t.gw, body.events[29].event_id);
  expect(delivery.last_error).toMatch(/^render failed: filter: evaluation failed/);
}, 120_000);

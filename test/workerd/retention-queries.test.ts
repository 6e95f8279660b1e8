import { createScheduledController } from "cloudflare:test";
import { afterEach, expect, it } from "vitest";
import { createWorker } from "../../src/runtime/worker.js";
import { callEvent } from "../support/events.js";
import { createSource, ingest, startGateway, TEST_SCHEDULE, type TestGateway } from "./gateway.js";

// A Worker invocation may make only so many D1 queries (1,000 on the Paid plan), one per transaction of a
// retention pass: a cron run's pass stops at its share, and the next run goes on with the oldest left.

const DAY_MS = 86_400_000;

let gw: TestGateway;
afterEach(async () => {
  await gw.stop();
});

it("ends a cron run's retention pass at its share of the invocation's D1 queries, and the next run goes on", async () => {
  gw = await startGateway({ retentionDays: 1 });
  const source = await createSource(gw);
  const ids: string[] = [];
  for (const length of [100, 100, 100, 50]) {
    const answer = await ingest(gw, source, Array.from({ length }, () => callEvent()));
    ids.push(...answer.body.events.map((e: { event_id: string }) => e.event_id));
  }
  gw.clock.advance(DAY_MS + 1);

  const worker = createWorker({ clock: gw.clock, schedule: TEST_SCHEDULE, expiryTransactionsPerRun: 2 });
  const cron = () => worker.scheduled(createScheduledController({ scheduledTime: gw.clock.now(), cron: "* * * * *" }), gw.env);
  const eventIds = async () => (await gw.sql("select id from events order by id")).map((row) => row.id);
  await cron();
  expect(await eventIds()).toEqual(ids.slice(200));
  await cron();
  expect(await eventIds()).toEqual([]);
});

import { expect, it } from "vitest";
import { callEvent } from "../support/events.js";
import { gatewayPerTest } from "../support/gateway-per-test.js";
import { createWebhook, ingest, startGateway } from "./gateway.js";
import { Receiver } from "./receiver.js";

const DAY_MS = 86_400_000;

const t = gatewayPerTest({ start: () => startGateway({ retentionDays: 1 }), receiver: () => new Receiver().start() });

// The cron's retention pass deletes an event once none of its deliveries is unfinished. A delivery its rule's
// change failed while the queue consumer was sending it is finished, yet still held: the consumer then records
// its attempt. Had the pass deleted the event, that attempt would be stored without its delivery, for ever
// (retention finds attempts through their deliveries).
it("keeps an expired event while the consumer still holds its delivery, and deletes it all once recorded", async () => {
  const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, retries: 0 });
  const answer = await ingest(t.gw, t.source, callEvent());
  t.gw.clock.advance(DAY_MS + 1); // the event is past the retention period before its delivery is sent

  const held = t.gw.holdNextStatement(/^insert into "attempts"/i);
  const sending = t.gw.settle();
  await held.reached; // sent; the consumer's record of it waits
  expect((await t.gw.api("DELETE", `/api/webhooks/${rule.id}`)).status).toBe(204);
  await t.gw.expire();
  expect(await t.gw.sql("select id from events")).toEqual([{ id: answer.body.event_id }]);
  held.release();
  await sending;

  const orphans = `select count(*) as n from attempts where delivery_id not in (select id from deliveries)`;
  expect(await t.gw.sql(orphans)).toEqual([{ n: 0 }]);
  expect(t.receiver.requests).toHaveLength(1);
  await t.gw.expire();
  expect(await t.gw.sql("select (select count(*) from events) + (select count(*) from deliveries) + (select count(*) from attempts) as n")).toEqual([{ n: 0 }]);
});

// A dead letter for a delivery another consumer is sending (a cron sweep's message had it claimed since) must
// leave its lease to its holder: failing it and clearing the lease would let the pass delete the event, and the
// holder's attempt be stored after it, without its delivery.
it("keeps an expired event while a consumer still holds the delivery a dead letter names; the attempt is stored with it", async () => {
  await createWebhook(t.gw, { url: `${t.receiver.url}/crm`, retries: 0 });
  const answer = await ingest(t.gw, t.source, callEvent());
  // Ids never go back within the process: this event's may carry the time of the test above, a day on.
  t.gw.clock.advance(3 * DAY_MS);

  const held = t.gw.holdNextStatement(/^insert into "attempts"/i);
  const sending = t.gw.settle();
  await held.reached;
  const [delivery] = await t.gw.sql("select id from deliveries");
  await t.gw.deadLetter([delivery.id as string], 6);
  await t.gw.expire();
  expect(await t.gw.sql("select id from events")).toEqual([{ id: answer.body.event_id }]);
  held.release();
  await sending;

  expect(await t.gw.sql("select status, attempt_count from deliveries")).toEqual([{ status: "delivered", attempt_count: 1 }]);
  expect(await t.gw.sql("select count(*) as n from attempts where delivery_id not in (select id from deliveries)")).toEqual([{ n: 0 }]);
  await t.gw.expire();
  expect(await t.gw.sql("select (select count(*) from events) + (select count(*) from deliveries) + (select count(*) from attempts) as n")).toEqual([{ n: 0 }]);
});

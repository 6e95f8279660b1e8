import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ManualClock } from "../support/clock.js";
import { callEvent } from "../support/events.js";
import { SalesforceStandIn } from "../support/salesforce-standin.js";
import { createSource, ingest, startGateway, type TestGateway } from "./gateway.js";

// Queue batches that the runtime hands the Worker at once, each its own invocation (SELF.queue), needing a
// Salesforce token together. An invocation that awaited a token fetch another one started would wait for ever
// if that one ended first (workerd never settles it), so each fetches its own; within a batch, one fetch
// serves all, and the token itself serves the invocations after. (gateway.ts's `settle` calls the consumer
// from this test's own invocation, where none of this could show.)

let gw: TestGateway;
let sf: SalesforceStandIn;

beforeEach(async () => {
  // On the real clock: the deliveries are made here, and sent by the Worker that SELF invokes, on its own clock.
  gw = await startGateway({ clock: new ManualClock(Date.now()) });
  sf = await new SalesforceStandIn().start();
});
afterEach(async () => {
  await gw.stop();
  await sf.stop();
});

/** Stores a delivery for each of `count` calls, without sending them (the harness's queue lets their messages go). */
async function storedDeliveries(source: { id: string; secret: string }, count: number): Promise<string[]> {
  for (let i = 0; i < count; i++) expect((await ingest(gw, source, callEvent())).status).toBe(202);
  const ids = gw.queued().map((message) => message.delivery_id);
  gw.loseMessages();
  return ids;
}

/** One invocation of the Worker's queue handler with these deliveries' messages, as the queue hands a batch. */
function invocation(deliveryIds: string[]) {
  const messages = deliveryIds.map((delivery_id) => ({ id: `msg-${delivery_id}`, timestamp: new Date(), attempts: 1, body: { delivery_id } }));
  return SELF.queue("call-event-deliveries", messages);
}

it("gives each invocation that needs a token at once its own fetch, shared within its batch, and the token to later ones", async () => {
  const source = await createSource(gw);
  const rule = await gw.api("POST", "/api/webhooks", {
    name: "Salesforce calls",
    preset: "salesforce",
    preset_config: { instance_url: sf.url, client_id: sf.clientId, client_secret: sf.clientSecret, find_caller: false },
  });
  expect(rule.status).toBe(201);
  const [a, b, c] = await storedDeliveries(source, 3);

  // No token is answered before both invocations have asked for one.
  sf.tokenHold = sf.tokenRequests(2);
  const results = await Promise.all([invocation([a, b]), invocation([c])]);
  expect(results.map((result) => result.explicitAcks.sort())).toEqual([[`msg-${a}`, `msg-${b}`].sort(), [`msg-${c}`]]);
  expect(sf.requestsTo("/services/oauth2/token")).toHaveLength(2);
  const tokenOf = new Map(sf.requestsTo("/services/data/v66.0/sobjects/Task").map((task) => [task.headers["webhook-id"], task.headers.authorization]));
  expect(tokenOf.size).toBe(3);
  expect(tokenOf.get(a)).toBe(tokenOf.get(b));
  expect(tokenOf.get(c)).not.toBe(tokenOf.get(a));
  for (const id of [a, b, c]) expect((await gw.api("GET", `/api/deliveries/${id}`)).body.status).toBe("delivered");

  // A later invocation uses the token an earlier one fetched.
  sf.tokenHold = undefined;
  const [later] = await storedDeliveries(source, 1);
  expect((await invocation([later])).explicitAcks).toEqual([`msg-${later}`]);
  expect(sf.requestsTo("/services/oauth2/token")).toHaveLength(2);
  const delivery = (await gw.api("GET", `/api/deliveries/${later}`)).body;
  expect(delivery.status).toBe("delivered");
  expect(delivery.attempts[0].note).toBeNull();
});

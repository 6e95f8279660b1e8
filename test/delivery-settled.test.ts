import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { disabledByHand } from "../src/domain/webhook.js";
import { PausingClock } from "./support/clock.js";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { parsePrometheus } from "./support/prometheus.js";

// A delivery the Node dispatcher is sending, or waiting in memory to retry, when its webhook is deleted or
// disabled: the dispatcher sends no more of it and its record stays as the change left it; and an edit of a
// rule racing a 410's disable. (What waits in the database, and the Workers consumer, are covered in
// delivery.test.ts, which runs on both runtimes.)

let clock: PausingClock;

beforeEach(() => {
  clock = new PausingClock();
});
const t = gatewayPerTest({ start: () => startGateway({ clock }) });
// Before the gateway stops: nothing may stay asleep on the paused clock.
afterEach(() => clock.wake());

/** A delivery whose first attempt got a 503 and whose retry the dispatcher now waits for in memory. */
async function waitingForRetry(): Promise<{ hook: { id: string }; eventId: string }> {
  const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/flaky`, retries: 3 });
  t.receiver.replyWith({ status: 503 });
  const answer = await ingest(t.gw, t.source, callEvent());
  await clock.asleep();
  return { hook, eventId: answer.body.event_id };
}

describe("a delivery settled while the dispatcher holds it", () => {
  it.each([
    ["deleting", "DELETE", undefined, "webhook deleted"],
    ["disabling", "PATCH", { enabled: false }, "webhook disabled"],
  ] as const)("%s the webhook during the wait for a retry: nothing more is sent, it stays failed", async (_, method, body, reason) => {
    const { hook, eventId } = await waitingForRetry();
    expect((await t.gw.api(method, `/api/webhooks/${hook.id}`, body)).status).toBeLessThan(300);
    clock.wake();
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
    const [delivery] = await deliveriesOf(t.gw, eventId);
    expect(delivery).toMatchObject({ status: "failed", last_error: reason, attempt_count: 1 });
    // Held under its lease when the rule changed, it is counted by the dispatcher once it finds it failed.
    const metrics = parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body);
    expect(metrics.value("gateway_deliveries_failed_total", { reason: "unsendable" })).toBe(1);
    expect(metrics.value("gateway_deliveries_failed_total", { reason: "retries_exhausted" })).toBe(0);
  });

  it("deleting the webhook during an attempt: the attempt is recorded, the delivery stays failed and is not retried", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/slow`, retries: 3 });
    let answer = () => {};
    t.receiver.replyWith({ status: 503, until: new Promise<void>((resolve) => (answer = resolve)) });
    const { body } = await ingest(t.gw, t.source, callEvent());
    await t.receiver.waitFor(1);
    expect((await t.gw.api("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204);
    answer();
    // The 503 asks for a retry, but its record finds the delivery failed meanwhile: nothing waits for a retry.
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
    const [delivery] = await deliveriesOf(t.gw, body.event_id);
    expect(delivery).toMatchObject({ status: "failed", last_error: "webhook deleted" });
    expect(delivery.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([503]);
  });

  it("a delivery that succeeds while its webhook is being deleted is recorded as delivered, as it was", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/slow` });
    let answer = () => {};
    t.receiver.replyWith({ status: 200, until: new Promise<void>((resolve) => (answer = resolve)) });
    const { body } = await ingest(t.gw, t.source, callEvent());
    await t.receiver.waitFor(1);
    expect((await t.gw.api("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204);
    answer();
    await t.gw.settle();
    const [delivery] = await deliveriesOf(t.gw, body.event_id);
    expect(delivery).toMatchObject({ status: "delivered", last_status_code: 200 });
  });
});

describe("a rule changed while a delivery disables it", () => {
  it("an edit that does not touch enabled leaves alone a 410's disable that came after the edit read the rule", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/gone` });
    const read = (await t.gw.store.webhooks.get(hook.id))!;
    const at = new Date(clock.now()).toISOString();
    await t.gw.store.webhooks.disable(hook.id, { at, reason: "gone", delivery_id: "dlv_gone", status_code: 410 });
    await t.gw.store.webhooks.replace({ ...read, name: "renamed" }, read);
    const gone = { at, reason: "gone", delivery_id: "dlv_gone", status_code: 410 };
    expect((await t.gw.api("GET", `/api/webhooks/${hook.id}`)).body).toMatchObject({ name: "renamed", enabled: false, disabled: gone });
    // Turned off by hand by an edit that read it enabled, after the 410: the first reason stands.
    clock.advance(1_000);
    await t.gw.store.webhooks.replace({ ...read, enabled: false, disabled: disabledByHand(new Date(clock.now()).toISOString()) }, read);
    expect((await t.gw.api("GET", `/api/webhooks/${hook.id}`)).body).toMatchObject({ enabled: false, disabled: gone });
  });
});

describe("a delivery settled while it waits in the dispatcher for its rule's turn", () => {
  /** A rule whose first delivery is out, held by the receiver, and whose second waits its turn in the dispatcher. */
  async function secondWaitingItsTurn() {
    const share = await startGateway({ dispatcherLimits: { concurrency: 16, ruleShare: 1, ruleBacklog: 8 } });
    const pbx = await createSource(share);
    const hook = await createWebhook(share, { url: `${t.receiver.url}/one-at-a-time`, retries: 0 });
    let answer = () => {};
    t.receiver.replyWith({ status: 200, until: new Promise<void>((resolve) => (answer = resolve)) });
    const first = (await ingest(share, pbx, callEvent())).body.event_id;
    await t.receiver.waitFor(1);
    const second = (await ingest(share, pbx, callEvent())).body.event_id;
    return { share, hook, first, second, answer };
  }

  it.each([
    ["deleting", "DELETE", undefined, "webhook deleted"],
    ["disabling", "PATCH", { enabled: false }, "webhook disabled"],
  ] as const)("%s the rule: the waiting one is not sent, and each delivery is counted once, as it ended", async (_, method, body, reason) => {
    const { share, hook, first, second, answer } = await secondWaitingItsTurn();
    try {
      expect((await share.api(method, `/api/webhooks/${hook.id}`, body)).status).toBeLessThan(300);
      answer();
      await share.settle();
      expect(t.receiver.requests).toHaveLength(1);
      expect((await deliveriesOf(share, first))[0]).toMatchObject({ status: "delivered" });
      expect((await deliveriesOf(share, second))[0]).toMatchObject({ status: "failed", last_error: reason, attempts: [] });
      const metrics = parsePrometheus((await share.send("/metrics", { method: "GET" })).body);
      expect(metrics.value("gateway_deliveries_delivered_total")).toBe(1);
      expect(metrics.value("gateway_deliveries_failed_total", { reason: "unsendable" })).toBe(1);
    } finally {
      await share.stop();
    }
  });

  it("disabling the rule and enabling it again: the waiting one, failed by the disable, is not sent", async () => {
    const { share, hook, first, second, answer } = await secondWaitingItsTurn();
    try {
      expect((await share.api("PATCH", `/api/webhooks/${hook.id}`, { enabled: false })).status).toBe(200);
      expect((await share.api("PATCH", `/api/webhooks/${hook.id}`, { enabled: true })).status).toBe(200);
      answer();
      await share.settle();
      // The delivery log says it failed: sent, the CRM would have a call the log says it never got.
      expect(t.receiver.requests).toHaveLength(1);
      expect((await deliveriesOf(share, first))[0]).toMatchObject({ status: "delivered" });
      expect((await deliveriesOf(share, second))[0]).toMatchObject({ status: "failed", last_error: "webhook disabled", attempts: [] });
      const metrics = parsePrometheus((await share.send("/metrics", { method: "GET" })).body);
      expect(metrics.value("gateway_deliveries_failed_total", { reason: "unsendable" })).toBe(1);
    } finally {
      await share.stop();
    }
  });
});

describe("an attempt that takes longer than the claim's lease margin (a rule's timeout is up to 60 s)", () => {
  /** A delivery of a rule with a 60 s timeout, its attempt out and held by the receiver for `heldMs` of the clock. */
  async function longAttempt(heldMs: number) {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/slow`, timeout_ms: 60_000, retries: 3 });
    let answer = () => {};
    t.receiver.replyWith({ status: 200, until: new Promise<void>((resolve) => (answer = resolve)) });
    const { body } = await ingest(t.gw, t.source, callEvent());
    await t.receiver.waitFor(1);
    clock.advance(heldMs);
    return { hook, eventId: body.event_id as string, answer };
  }

  it("deleting the rule 45 s into the attempt, which then delivers: recorded as delivered, as it was", async () => {
    const { hook, eventId, answer } = await longAttempt(45_000);
    expect((await t.gw.api("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204);
    answer();
    await t.gw.settle();
    const [delivery] = await deliveriesOf(t.gw, eventId);
    expect(delivery).toMatchObject({ status: "delivered", last_status_code: 200 });
    const metrics = parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body);
    expect(metrics.value("gateway_deliveries_delivered_total")).toBe(1);
    expect(metrics.value("gateway_deliveries_failed_total", { reason: "unsendable" })).toBe(0);
  });

  it("deleting the rule during the attempt of a delivery that waited minutes for its rule's turn: recorded as delivered", async () => {
    const share = await startGateway({ clock, dispatcherLimits: { concurrency: 16, ruleShare: 1, ruleBacklog: 8 } });
    try {
      const pbx = await createSource(share);
      const hook = await createWebhook(share, { url: `${t.receiver.url}/one-at-a-time`, timeout_ms: 60_000, retries: 0 });
      const answers: Array<() => void> = [];
      const held = () => ({ status: 200, until: new Promise<void>((resolve) => answers.push(resolve)) });
      t.receiver.replyWith(held(), held(), held());
      await ingest(share, pbx, callEvent());
      await t.receiver.waitFor(1);
      await ingest(share, pbx, callEvent());
      const last = (await ingest(share, pbx, callEvent())).body.event_id;
      // Each is answered after 55 s: the last, committed with the first, waits 110 s for its turn.
      for (const sent of [1, 2]) {
        clock.advance(55_000);
        answers[sent - 1]();
        await t.receiver.waitFor(sent + 1);
      }
      clock.advance(5_000);
      expect((await share.api("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204);
      answers[2]();
      await share.settle();
      expect((await deliveriesOf(share, last))[0]).toMatchObject({ status: "delivered", last_status_code: 200 });
      const metrics = parsePrometheus((await share.send("/metrics", { method: "GET" })).body);
      expect(metrics.value("gateway_deliveries_delivered_total")).toBe(3);
      expect(metrics.value("gateway_deliveries_failed_total", { reason: "unsendable" })).toBe(0);
    } finally {
      await share.stop();
    }
  });

  it("a retention pass while the attempt of an old event is out keeps the event: no attempt is left without its delivery", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/slow`, timeout_ms: 60_000, retries: 3 });
    let answer = () => {};
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "3600" } }, { status: 200, until: new Promise<void>((resolve) => (answer = resolve)) });
    const eventId = (await ingest(t.gw, t.source, callEvent())).body.event_id;
    await t.gw.settle();
    // Its retry goes out once the event is past the retention period (a receiver down for weeks, retried by hand).
    clock.advance(31 * 86_400_000);
    void t.gw.dispatcher.sweep();
    await t.receiver.waitFor(2);
    clock.advance(45_000);
    expect((await t.gw.api("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204);
    await t.gw.expire();
    answer();
    await t.gw.settle();
    const orphans = await t.gw.sql("select count(*) as n from attempts where delivery_id not in (select id from deliveries)");
    expect(orphans).toEqual([{ n: 0 }]);
    expect((await deliveriesOf(t.gw, eventId))[0]).toMatchObject({ status: "delivered", attempt_count: 2 });
  });
});

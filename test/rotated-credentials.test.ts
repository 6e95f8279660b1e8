import { describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createWebhook, editWebhook } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { deliveryOfNew } from "./support/ingest-and-settle.js";
import { Receiver, type Received, type Reply } from "./support/receiver.js";

// A rule's credential header written as a fixed value is the rule's, as it is when each attempt is sent: an
// integrator whose CRM revoked the key edits the header, and the deliveries that failed (or wait to be retried)
// go out with the new one, their other bytes as rendered. Shared with the workerd suite.
const t = gatewayPerTest();

const OLD = "Bearer old-token-revoked-1111";
const NEW = "Bearer new-token-rotated-2222";

/** The CRM after the rotation: only the new key is let in. */
const crm = (request: Received): Reply => ({ status: request.headers.authorization === NEW ? 200 : 401 });

const createRule = (body: Record<string, unknown>) => createWebhook(t.gw, { name: "CRM", ...body });
const edit = (rule: { id: string }, patch: Record<string, unknown>) => editWebhook(t.gw, rule, patch);

const deliveryOf = (rule: { id: string }, uniqueid: string) => deliveryOfNew(t.gw, t.source, rule, callEvent({ uniqueid }));

const shown = async (id: string) => (await t.gw.api("GET", `/api/deliveries/${id}`)).body;
const retry = async (id: string) => expect((await t.gw.api("POST", `/api/deliveries/${id}/retry`)).status).toBe(202);
const recover = async (rule: { id: string }, since: string) => (await t.gw.api("POST", `/api/webhooks/${rule.id}/recover`, { since })).body;

describe("a rotated credential header", () => {
  it("reaches the deliveries that failed with the revoked one, retried by hand or recovered: the rest as rendered", async () => {
    t.receiver.handler = crm;
    const rule = await createRule({
      url: `${t.receiver.url}/calls`,
      headers: { Authorization: OLD, "X-Call": "{{uniqueid}}" },
      params: { call: "uniqueid" },
      retries: 0,
    });
    const first = await deliveryOf(rule, "call.1");
    const second = await deliveryOf(rule, "call.2");
    for (const d of [first, second]) expect(d).toMatchObject({ status: "failed", last_error: "HTTP 401 (not retryable)" });
    expect(t.receiver.requests.map((r) => r.headers.authorization)).toEqual([OLD, OLD]);
    const rendered = t.receiver.requests.map((r) => r.body);

    // The key rotated, and the payload changed in the same edit: the failed deliveries keep the bytes they had.
    await edit(rule, { headers: { Authorization: NEW, "X-Call": "{{uniqueid}}" }, params: { call: "uniqueid", v: "2" } });
    await retry(first.id);
    expect(await recover(rule, first.created_at)).toMatchObject({ retried: 1, render_failed: 0 });
    await t.gw.settle();

    const retried = t.receiver.requests.slice(2);
    expect(retried.map((r) => r.headers.authorization)).toEqual([NEW, NEW]);
    expect(retried.map((r) => r.headers["x-call"]).sort()).toEqual(["call.1", "call.2"]);
    expect(retried.map((r) => r.body).sort()).toEqual([...rendered].sort());
    for (const d of [first, second]) {
      const now = await shown(d.id);
      expect(now).toMatchObject({ status: "delivered", request: { headers: { Authorization: "****" } } });
      expect(JSON.stringify(now)).not.toMatch(/old-token|new-token/);
    }
  });

  it("reaches a retry waiting in the outbox when the header is edited", async () => {
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "60" } });
    t.receiver.handler = crm;
    const rule = await createRule({ url: `${t.receiver.url}/calls`, headers: { "X-Api-Key": "x", Authorization: OLD }, retries: 1 });
    const waiting = await deliveryOf(rule, "call.1");
    expect(waiting.status).toBe("pending");
    expect(t.receiver.requests[0].headers.authorization).toBe(OLD);

    await edit(rule, { headers: { "X-Api-Key": "x", Authorization: NEW } });
    t.gw.clock.advance(60_000);
    await t.gw.sweep();
    await t.gw.settle();
    expect(t.receiver.requests.map((r) => r.headers.authorization)).toEqual([OLD, NEW]);
    expect(t.receiver.requests[1].body).toBe(t.receiver.requests[0].body);
    expect(await shown(waiting.id)).toMatchObject({ status: "delivered", attempt_count: 2 });
  });

  it("does not go to the host the rule sent to before its URL moved: its deliveries are made anew for the new one", async () => {
    const moved = await new Receiver().start();
    try {
      t.receiver.replyWith({ status: 401 }, { status: 503, headers: { "retry-after": "60" } });
      moved.handler = crm;
      const rule = await createRule({ url: `${t.receiver.url}/calls`, headers: { Authorization: OLD }, retries: 0 });
      const failed = await deliveryOf(rule, "old.1");
      expect(failed.status).toBe("failed");
      await edit(rule, { retries: 1 });
      const waiting = await deliveryOf(rule, "old.2");
      expect(waiting.status).toBe("pending");

      // The CRM moved, and the key with it (an edit moving the rule must give its credentials again).
      await edit(rule, { url: `${moved.url}/calls`, headers: { Authorization: NEW } });
      t.gw.clock.advance(60_000);
      await t.gw.sweep();
      await t.gw.settle();
      const refused = await shown(waiting.id);
      expect(refused).toMatchObject({ status: "failed", request: { url: `${t.receiver.url}/calls` } });
      expect(refused.last_error).toMatch(/^not sent: the rule sends elsewhere since this delivery was made/);

      await retry(failed.id);
      expect(await recover(rule, failed.created_at)).toMatchObject({ retried: 1, render_failed: 0 });
      await t.gw.settle();
      // The old host got the old key twice and nothing since; the new one each delivery, with the new key.
      expect(t.receiver.requests.map((r) => r.headers.authorization)).toEqual([OLD, OLD]);
      expect(moved.requests.map((r) => r.headers.authorization)).toEqual([NEW, NEW]);
      for (const d of [failed, waiting]) expect(await shown(d.id)).toMatchObject({ status: "delivered", request: { url: `${moved.url}/calls` } });
    } finally {
      await moved.stop();
    }
  });

  it("does not go to the host the rule sent to when a value left empty had let the path name it", async () => {
    // `http://{{crm_host}}/127.0.0.1:port/calls` renders `http:///127.0.0.1:port/calls`: the path names the host.
    const moved = await new Receiver().start();
    try {
      t.receiver.replyWith({ status: 503, headers: { "retry-after": "60" } });
      const hostIn = (url: string) => `${url.replace("http://", "http://{{crm_host}}/")}/calls`;
      const rule = await createRule({ url: hostIn(t.receiver.url), headers: { Authorization: OLD }, retries: 1 });
      const waiting = await deliveryOf(rule, "old.1");
      expect(waiting.status).toBe("pending");

      await edit(rule, { url: hostIn(moved.url), headers: { Authorization: NEW } });
      t.gw.clock.advance(60_000);
      await t.gw.sweep();
      await t.gw.settle();
      expect(t.receiver.requests.map((r) => r.headers.authorization)).toEqual([OLD]);
      expect((await shown(waiting.id)).last_error).toMatch(/^not sent: the rule sends elsewhere since this delivery was made/);
    } finally {
      await moved.stop();
    }
  });

  it("that the delivery was made without (added since, or the rule's header removed) makes it anew when retried by hand", async () => {
    t.receiver.handler = (request) => ({ status: request.headers["x-api-key"] === "crm-key-added-3333" ? 200 : 401 });
    const rule = await createRule({ url: `${t.receiver.url}/calls`, retries: 0 });
    const forgot = await deliveryOf(rule, "call.1");
    expect(forgot).toMatchObject({ status: "failed", last_error: "HTTP 401 (not retryable)" });

    await edit(rule, { headers: { "X-Api-Key": "crm-key-added-3333" } });
    await retry(forgot.id);
    await t.gw.settle();
    expect(t.receiver.requests.map((r) => r.headers["x-api-key"])).toEqual([undefined, "crm-key-added-3333"]);
    expect(await shown(forgot.id)).toMatchObject({ status: "delivered" });

    // A header the rule no longer has as a fixed value is not sent as the text standing for it.
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "60" } });
    t.receiver.handler = () => ({ status: 200 });
    await edit(rule, { retries: 1 });
    const waiting = await deliveryOf(rule, "call.2");
    expect(waiting.status).toBe("pending");
    await edit(rule, { headers: { "X-Api-Key": "key-{{agent.extension}}" } });
    t.gw.clock.advance(60_000);
    await t.gw.sweep();
    await t.gw.settle();
    const refused = await shown(waiting.id);
    expect(refused).toMatchObject({ status: "failed" });
    expect(refused.last_error).toMatch(/^not sent: the rule's credential header X-Api-Key changed since this delivery was made/);
    expect(t.receiver.requests).toHaveLength(3);
    await retry(waiting.id);
    await t.gw.settle();
    expect(t.receiver.requests[3].headers["x-api-key"]).toBe("key-201");
    expect(JSON.stringify(t.receiver.requests.map((r) => r.headers))).not.toContain("__SECRET__");
  });

  it("leaves a credential header rendered from the event as it was rendered", async () => {
    t.receiver.replyWith({ status: 401 });
    const rule = await createRule({ url: `${t.receiver.url}/calls`, headers: { "X-Api-Key": "key-{{uniqueid}}" }, retries: 0 });
    const failed = await deliveryOf(rule, "call.1");
    expect(failed.status).toBe("failed");
    await edit(rule, { headers: { "X-Api-Key": "other-{{agent.extension}}" } });
    await retry(failed.id);
    await t.gw.settle();
    expect(t.receiver.requests.map((r) => r.headers["x-api-key"])).toEqual(["key-call.1", "key-call.1"]);
  });
});

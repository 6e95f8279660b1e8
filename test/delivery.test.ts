import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { ingestAndSettle } from "./support/ingest-and-settle.js";
import { parsePrometheus } from "./support/prometheus.js";

const t = gatewayPerTest();

const deliverOne = (event?: Record<string, unknown>) => ingestAndSettle(t.gw, t.source, event);

describe("rendering each method and payload kind", () => {
  it("GET sends params as the query string, with Handlebars in the URL and headers", async () => {
    await createWebhook(t.gw, {
      method: "GET",
      url: `${t.receiver.url}/calls/{{agent.extension}}?token=abc`,
      headers: { "X-Call": "{{uniqueid}}" },
      params: { phone: "src", minutes: "$round(bill_duration / 60)", agent: "agent", missing: "nothing.here" },
    });
    await deliverOne(callEvent({ uniqueid: "42.1" }));
    const [request] = t.receiver.requests;
    expect(request.method).toBe("GET");
    expect(request.path).toBe("/calls/201");
    expect(Object.fromEntries(request.query)).toEqual({
      token: "abc",
      phone: "+15551234567",
      minutes: "5",
      agent: JSON.stringify({ name: "Alex Agent", extension: "201", email: "alex@example.com" }),
    });
    expect(request.headers["x-call"]).toBe("42.1");
    expect(request.body).toBe("");
  });

  it("keeps the query the rule's URL has as written, appending the params, and trims spaces around header values", async () => {
    const rule = { method: "GET", url: `${t.receiver.url}/q?sig=ab%2bc%3d&flag&t=~`, headers: { "X-Pad": "  {{caller_name}} " }, params: { phone: "src" } };
    const previewed = await t.gw.api("POST", "/api/preview", { webhook: rule, event: callEvent({ caller_name: "Jane\t" }) });
    // `sig` holds a credential: shown masked, and sent as written (filled in at the attempt).
    expect(previewed.body.url).toBe(`${t.receiver.url}/q?sig=****&flag&t=~&phone=%2B15551234567`);
    expect(previewed.body.headers["X-Pad"]).toBe("Jane");
    await createWebhook(t.gw, rule);
    await deliverOne(callEvent({ caller_name: "Jane\t" }));
    const [request] = t.receiver.requests;
    expect(request.target).toBe("/q?sig=ab%2bc%3d&flag&t=~&phone=%2B15551234567");
    expect(request.headers["x-pad"]).toBe("Jane");
  });

  it("POST sends params as a form body", async () => {
    await createWebhook(t.gw, { method: "POST", url: `${t.receiver.url}/form`, params: { phone: "src", name: "caller_name" } });
    await deliverOne();
    const [request] = t.receiver.requests;
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request.body).toBe("phone=%2B15551234567&name=Jane+Customer");
  });

  it("POST_JSON, PUT and PATCH send params as a JSON object; one expression may build the whole object", async () => {
    await createWebhook(t.gw, { method: "POST_JSON", url: `${t.receiver.url}/json`, params: { phone: "src", talk: "bill_duration" } });
    await createWebhook(t.gw, { method: "PUT", url: `${t.receiver.url}/put`, params: '{"call": uniqueid, "who": agent.name}' });
    await createWebhook(t.gw, { method: "PATCH", url: `${t.receiver.url}/patch`, params: { ok: "bridged" } });
    await deliverOne(callEvent({ uniqueid: "7.7" }));
    const byPath = Object.fromEntries(t.receiver.requests.map((r) => [r.path, r]));
    expect(byPath["/json"].method).toBe("POST");
    expect(JSON.parse(byPath["/json"].body)).toEqual({ phone: "+15551234567", talk: 328 });
    expect(byPath["/put"].method).toBe("PUT");
    expect(JSON.parse(byPath["/put"].body)).toEqual({ call: "7.7", who: "Alex Agent" });
    expect(byPath["/patch"].method).toBe("PATCH");
    expect(byPath["/patch"].headers["content-type"]).toBe("application/json");
    expect(JSON.parse(byPath["/patch"].body)).toEqual({ ok: true });
  });

  it("sends params named like Object's own members as plain parameters", async () => {
    await createWebhook(t.gw, { method: "POST_JSON", url: `${t.receiver.url}/json`, params: { constructor: "dst", toString: "uniqueid" } });
    await deliverOne(callEvent({ uniqueid: "7.8" }));
    expect(t.receiver.requests[0].body).toBe('{"constructor":"+15557654321","toString":"7.8"}');
  });

  it("a body template is the raw body, sent with its content type, JSON-safe inside strings", async () => {
    await createWebhook(t.gw, {
      method: "POST_JSON",
      url: `${t.receiver.url}/tpl`,
      content_type: "application/vnd.crm+json",
      body_template: '{"note": "{{caller_name}} called", "agent": {{json agent}}, "cause": "{{hangup_cause}}"}',
      hangup_causes: { ANSWERED: "Talked" },
    });
    await deliverOne(callEvent({ caller_name: 'Jane "JJ" O\'Neil\nSr.' }));
    const [request] = t.receiver.requests;
    expect(request.headers["content-type"]).toBe("application/vnd.crm+json");
    expect(JSON.parse(request.body)).toEqual({
      note: 'Jane "JJ" O\'Neil\nSr. called',
      agent: { name: "Alex Agent", extension: "201", email: "alex@example.com" },
      cause: "Talked",
    });
  });

  it("a template can use the partials in templates/partials/", async () => {
    await createWebhook(t.gw, {
      url: `${t.receiver.url}/partial`,
      content_type: "text/plain",
      body_template: "{{> call_summary}}",
      hangup_causes: { ANSWERED: "Talked" },
    });
    await deliverOne();
    expect(t.receiver.requests[0].body).toBe(
      "Call from Jane Customer to +15557654321, handled by Alex Agent (201): talked, talk time 328 s",
    );
  });

  it("without params or template, a JSON rule sends the canonical event", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/all` });
    const eventId = await deliverOne();
    const body = JSON.parse(t.receiver.requests[0].body);
    expect(body.event_id).toBe(eventId);
    expect(body.uniqueid).toBeDefined();
    expect(body.raw).toBeUndefined();
  });

  it("sends exactly the bytes the preview showed", async () => {
    const hook = await createWebhook(t.gw, {
      url: `${t.receiver.url}/same?x={{src}}`,
      body_template: '{"n": {{json caller_name}}, "d": {{bill_duration}} }',
    });
    const event = callEvent();
    const preview = await t.gw.api("POST", `/api/webhooks/${hook.id}/preview`, { event });
    expect(preview.status).toBe(200);
    await deliverOne(event);
    const [request] = t.receiver.requests;
    expect(request.body).toBe(preview.body.body);
    expect(`${t.receiver.url}${request.path}?${request.query}`).toBe(preview.body.url);
    expect(preview.body.matches).toBe(true);
  });

  it("previews, stores and sends a lone surrogate as the U+FFFD its UTF-8 bytes carry, in body, header and URL", async () => {
    const hook = await createWebhook(t.gw, {
      url: `${t.receiver.url}/s?a={{{caller_name}}}&b={{caller_name}}`,
      headers: { "X-Name": "{{caller_name}}" },
      content_type: "text/plain",
      body_template: "{{caller_name}}",
    });
    const event = callEvent({ caller_name: "a\ud800b" });
    const preview = await t.gw.api("POST", `/api/webhooks/${hook.id}/preview`, { event });
    expect(preview.body.body).toBe("a\ufffdb");
    expect(preview.body.headers["X-Name"]).toBe("a\ufffdb");
    expect(preview.body.url).toBe(`${t.receiver.url}/s?a=a%EF%BF%BDb&b=a%EF%BF%BDb`);
    const [delivery] = await deliveriesOf(t.gw, await deliverOne(event));
    expect(delivery.request).toMatchObject({ url: preview.body.url, body: preview.body.body, headers: { "X-Name": "a\ufffdb" } });
    const [request] = t.receiver.requests;
    expect(request.body).toBe(preview.body.body);
    expect(request.target).toBe("/s?a=a%EF%BF%BDb&b=a%EF%BF%BDb");
    const bytes = Uint8Array.from(request.headers["x-name"] as string, (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe("a\ufffdb");
  });

  it("sends the URL's path and query exactly as previewed, an empty query's ? included", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/q?` });
    const preview = await t.gw.api("POST", `/api/webhooks/${hook.id}/preview`, {});
    expect(preview.body.url).toBe(`${t.receiver.url}/q?`);
    await deliverOne();
    expect(t.receiver.requests[0].target).toBe("/q?");
  });
});

describe("matching", () => {
  it("sends only to enabled rules whose event, call type, source and filter match", async () => {
    const other = await createSource(t.gw, "Other PBX");
    await createWebhook(t.gw, { url: `${t.receiver.url}/all` });
    await createWebhook(t.gw, { url: `${t.receiver.url}/inbound`, call_types: ["inbound"] });
    await createWebhook(t.gw, { url: `${t.receiver.url}/outbound`, call_types: ["outbound"] });
    await createWebhook(t.gw, { url: `${t.receiver.url}/start`, events: ["call.start"] });
    await createWebhook(t.gw, { url: `${t.receiver.url}/other-source`, source_ids: [other.id] });
    await createWebhook(t.gw, { url: `${t.receiver.url}/long`, filter: "bill_duration > 300" });
    await createWebhook(t.gw, { url: `${t.receiver.url}/short`, filter: "bill_duration < 10" });
    await createWebhook(t.gw, { url: `${t.receiver.url}/disabled`, enabled: false });
    await deliverOne();
    expect(t.receiver.requests.map((r) => r.path).sort()).toEqual(["/all", "/inbound", "/long"]);
  });
});

describe("signing and idempotency", () => {
  it("signs with Standard Webhooks by default, with a webhook-id stable across retries", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/signed` });
    t.receiver.replyWith({ status: 503 });
    await deliverOne();
    expect(t.receiver.requests).toHaveLength(2);
    const [first, second] = t.receiver.requests;
    expect(first.headers["webhook-id"]).toMatch(/^dlv_/);
    expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    for (const request of t.receiver.requests) {
      const key = Buffer.from(hook.secret.slice("whsec_".length), "base64");
      const signed = `${request.headers["webhook-id"]}.${request.headers["webhook-timestamp"]}.${request.body}`;
      const expected = createHmac("sha256", key).update(signed).digest("base64");
      expect(request.headers["webhook-signature"]).toBe(`v1,${expected}`);
    }
  });

  it("signs hmac-hex with x-signature over the body, and none with only webhook-id", async () => {
    const hex = await createWebhook(t.gw, { url: `${t.receiver.url}/hex`, signing: "hmac-hex", secret: "wildix-style-secret" });
    await createWebhook(t.gw, { url: `${t.receiver.url}/none`, signing: "none" });
    await deliverOne();
    const byPath = Object.fromEntries(t.receiver.requests.map((r) => [r.path, r]));
    const expected = createHmac("sha256", "wildix-style-secret").update(byPath["/hex"].body).digest("hex");
    expect(hex.secret).toBe("wildix-style-secret");
    expect(byPath["/hex"].headers["x-signature"]).toBe(expected);
    expect(byPath["/none"].headers["webhook-id"]).toMatch(/^dlv_/);
    expect(byPath["/none"].headers["webhook-signature"]).toBeUndefined();
    expect(byPath["/none"].headers["x-signature"]).toBeUndefined();
  });
});

describe("retries", () => {
  it("retries a receiver failing twice, then succeeding, with backoff between attempts", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/flaky`, retries: 3 });
    t.receiver.replyWith({ status: 500, body: "boom" }, { status: 502 });
    const [delivery] = await deliveriesOf(t.gw, await deliverOne());
    expect(t.receiver.requests).toHaveLength(3);
    expect(delivery.status).toBe("delivered");
    expect(delivery.attempt_count).toBe(3);
    expect(delivery.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 502, 200]);
    expect(delivery.attempts[0].response_body).toBe("boom");
    const times = delivery.attempts.map((a: { started_at: string }) => Date.parse(a.started_at));
    // TEST_SCHEDULE: 1 s, then 2 s.
    expect([times[1] - times[0], times[2] - times[1]]).toEqual([1_000, 2_000]);
  });

  it("gives up after retries + 1 attempts and lists the delivery as failed", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/down`, retries: 2 });
    t.receiver.replyWith({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    const [delivery] = await deliveriesOf(t.gw, await deliverOne());
    expect(t.receiver.requests).toHaveLength(3);
    expect(delivery.status).toBe("failed");
    expect(delivery.last_error).toContain("retries exhausted");
    const failed = await t.gw.api("GET", `/api/deliveries?status=failed&webhook_id=${hook.id}`);
    expect(failed.body.data.map((d: { id: string }) => d.id)).toEqual([delivery.id]);
  });

  it("does not retry a 4xx other than 408/409/425/429, and does retry those", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/bad`, retries: 3 });
    t.receiver.replyWith({ status: 422 });
    const [rejected] = await deliveriesOf(t.gw, await deliverOne());
    expect(rejected.status).toBe("failed");
    expect(rejected.attempt_count).toBe(1);

    t.receiver.replyWith({ status: 429 }, { status: 408 });
    const [retried] = await deliveriesOf(t.gw, await deliverOne());
    expect(retried.status).toBe("delivered");
    expect(retried.attempt_count).toBe(3);
  });

  it("honours Retry-After, parking a long wait in the outbox until it is due", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/busy`, retries: 3 });
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "7" } });
    const [quick] = await deliveriesOf(t.gw, await deliverOne());
    const times = quick.attempts.map((a: { started_at: string }) => Date.parse(a.started_at));
    expect(times[1] - times[0]).toBe(7_000);

    // Longer than the dispatcher holds in memory (10 s): parked as pending, sent by a later sweep.
    t.receiver.replyWith({ status: 429, headers: { "retry-after": "120" } });
    const [parked] = await deliveriesOf(t.gw, await deliverOne());
    expect(parked.status).toBe("pending");
    expect(Date.parse(parked.next_attempt_at) - Date.parse(parked.attempts[0].started_at)).toBe(120_000);
    await t.gw.sweep();
    expect((await t.gw.api("GET", `/api/deliveries/${parked.id}`)).body.status).toBe("pending");
    t.gw.clock.advance(120_000);
    await t.gw.sweep();
    const done = (await t.gw.api("GET", `/api/deliveries/${parked.id}`)).body;
    expect(done.status).toBe("delivered");
    expect(done.attempts).toHaveLength(2);
  });

  it("on 410 Gone fails the delivery and disables the webhook, failing its deliveries waiting for a retry too", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/gone`, retries: 3 });
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "60" } }, { status: 410 });
    const [waiting] = await deliveriesOf(t.gw, await deliverOne());
    expect(waiting.status).toBe("pending");
    const [delivery] = await deliveriesOf(t.gw, await deliverOne());
    expect(delivery.status).toBe("failed");
    expect(delivery.last_error).toContain("410");
    // The rule says when and why it was turned off, and which delivery's attempt got the 410.
    const gone = { at: delivery.updated_at, reason: "gone", delivery_id: delivery.id, status_code: 410 };
    expect((await t.gw.api("GET", `/api/webhooks/${hook.id}`)).body).toMatchObject({ enabled: false, disabled: gone });
    expect((await t.gw.api("GET", "/api/webhooks")).body.data).toEqual([expect.objectContaining({ id: hook.id, disabled: gone })]);
    expect((await t.gw.api("GET", `/api/deliveries/${waiting.id}`)).body).toMatchObject({ status: "failed", last_error: "webhook disabled (410 Gone)" });
    t.gw.clock.advance(60_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(2);
    const next = await ingest(t.gw, t.source, callEvent());
    expect(next.body.deliveries).toBe(0);

    // Sent by hand to the rule now off, a 410 again leaves the first reason; enabled again, the rule forgets it.
    t.receiver.replyWith({ status: 410 });
    expect((await t.gw.api("POST", `/api/deliveries/${waiting.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(3);
    expect((await t.gw.api("GET", `/api/webhooks/${hook.id}`)).body.disabled).toEqual(gone);
    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabled: null });
    expect((await t.gw.api("GET", `/api/webhooks/${hook.id}`)).body).toMatchObject({ enabled: true, disabled: null });
  });

  it("disabling a rule fails its deliveries waiting for a retry; a manual retry still sends one", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/paused`, retries: 3 });
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "60" } });
    const [waiting] = await deliveriesOf(t.gw, await deliverOne());
    expect(waiting.status).toBe("pending");
    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { enabled: false })).status).toBe(200);
    expect((await t.gw.api("GET", `/api/deliveries/${waiting.id}`)).body).toMatchObject({ status: "failed", last_error: "webhook disabled" });
    t.gw.clock.advance(60_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);

    // Sent by hand, it goes out although the rule is disabled.
    expect((await t.gw.api("POST", `/api/deliveries/${waiting.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    expect((await t.gw.api("GET", `/api/deliveries/${waiting.id}`)).body.status).toBe("delivered");
    expect(t.receiver.requests).toHaveLength(2);
  });

  it("a delivery an ingest commits just after its rule was disabled is failed, not sent", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/paused`, delay_seconds: 60 });
    const eventId = (await ingest(t.gw, t.source, callEvent())).body.event_id;
    const [delivery] = await deliveriesOf(t.gw, eventId);
    // What an ingest that read the rule enabled leaves when its commit lands after the disable's: a delivery
    // made before the disable, which the disable did not see (here hidden from it as if settled, then put back).
    const setStatus = (status: string) => t.gw.sql("update deliveries set status = ? where id = ?", [status, delivery.id]);
    await setStatus("delivered");
    t.gw.clock.advance(1);
    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { enabled: false })).status).toBe(200);
    await setStatus("pending");
    t.gw.clock.advance(60_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(0);
    expect((await t.gw.api("GET", `/api/deliveries/${delivery.id}`)).body).toMatchObject({ status: "failed", last_error: "webhook disabled", attempts: [] });
    const metrics = parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body);
    expect(metrics.value("gateway_deliveries_failed_total", { reason: "unsendable" })).toBe(1);
  });

  it("records the start of a huge reply and its headers, and takes an empty 204 as delivered", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/huge` });
    t.receiver.replyWith({ status: 200, body: `${"x".repeat(8 * 1024 * 1024)}`, headers: { "x-request-id": "crm-42" } });
    const [huge] = await deliveriesOf(t.gw, await deliverOne());
    expect(huge.status).toBe("delivered");
    expect(huge.attempts[0].response_body).toBe("x".repeat(4_096));
    expect(huge.attempts[0].response_headers).toMatchObject({ "x-request-id": "crm-42" });

    t.receiver.replyWith({ status: 204, body: "" });
    const [empty] = await deliveriesOf(t.gw, await deliverOne());
    expect(empty.status).toBe("delivered");
    expect(empty.attempts[0]).toMatchObject({ status_code: 204, response_body: "" });
  });

  it("records a reply with a NUL character whole, the NUL as U+FFFD (libSQL reads a text back only up to one)", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/nul`, retries: 0 });
    t.receiver.replyWith({ status: 500, body: "refused\u0000: the rest of what the CRM said" });
    const [delivery] = await deliveriesOf(t.gw, await deliverOne());
    expect(delivery.attempts[0].response_body).toBe("refused\uFFFD: the rest of what the CRM said");
  });

  it("hides a credential header the reply echoes, in its body, its headers and the error", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/echo`, headers: { "X-Api-Key": "crm-key-5551", Authorization: "Bearer tok/en+42" }, retries: 0 });
    t.receiver.handler = (request) => ({
      status: 400,
      headers: { "x-seen-key": String(request.headers["x-api-key"]) },
      body: JSON.stringify({ error: `bad key ${request.headers["x-api-key"]} for ${request.headers.authorization}`, token: "tok%2Fen%2B42" }),
    });
    const [echoed] = await deliveriesOf(t.gw, await deliverOne());
    expect(t.receiver.requests[0].headers["x-api-key"]).toBe("crm-key-5551");
    expect(echoed.attempts[0]).toMatchObject({
      status_code: 400,
      response_headers: expect.objectContaining({ "x-seen-key": "****" }),
      response_body: JSON.stringify({ error: "bad key **** for ****", token: "****" }),
    });
    expect(JSON.stringify(echoed)).not.toMatch(/crm-key-5551|tok\/en\+42/);
  });

  it("hides the start of a credential the reply echoes where the 4 KiB kept of it ends", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/echo`, headers: { "X-Api-Key": "crm-key-0123456789" }, retries: 0 });
    // As a receiver echoing the request would, once whoever edits the rule pads the body before it.
    t.receiver.handler = (request) => ({ status: 400, body: `${"x".repeat(4_096 - 8)}${request.headers["x-api-key"]} was refused` });
    const [echoed] = await deliveriesOf(t.gw, await deliverOne());
    // Before: the excerpt ended with "crm-key-", and other paddings would show all but the key's last character.
    expect(echoed.attempts[0].response_body).toBe(`${"x".repeat(4_096 - 8)}****`);
  });

  it("applies a rule changed through the API to the very next event (rules kept in memory are dropped on write)", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/before` });
    await deliveriesOf(t.gw, await deliverOne());
    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { url: `${t.receiver.url}/after` })).status).toBe(200);
    await deliveriesOf(t.gw, await deliverOne());
    expect((await t.gw.api("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204);
    expect((await ingest(t.gw, t.source, callEvent())).body.deliveries).toBe(0);
    await t.gw.settle();
    expect(t.receiver.requests.map((r) => r.path)).toEqual(["/before", "/after"]);
  });

  it("enforces timeout_ms and retries a receiver that did not answer in time", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/slow`, timeout_ms: 150, retries: 1 });
    t.receiver.replyWith({ delayMs: 2_000 });
    const [delivery] = await deliveriesOf(t.gw, await deliverOne());
    expect(delivery.attempts[0].error).toBe("timed out after 150 ms");
    expect(delivery.attempts[0].status_code).toBeNull();
    expect(delivery.status).toBe("delivered");
  });

  it("takes a 2xx as delivered although its body then stalls or breaks off, noting the excerpt is short", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/stalls`, timeout_ms: 300, retries: 2 });
    t.receiver.replyWith({ status: 200, body: "accepted", breakOff: "stall" });
    const [stalled] = await deliveriesOf(t.gw, await deliverOne());
    expect(t.receiver.requests).toHaveLength(1);
    expect(stalled).toMatchObject({ status: "delivered", attempt_count: 1, last_status_code: 200 });
    expect(stalled.attempts[0]).toMatchObject({ status_code: 200, error: null, note: "response body not read: timed out after 300 ms" });

    t.receiver.replyWith({ status: 201, body: "half", breakOff: "close" });
    const [cut] = await deliveriesOf(t.gw, await deliverOne());
    expect(t.receiver.requests).toHaveLength(2);
    expect(cut).toMatchObject({ status: "delivered", attempt_count: 1, last_status_code: 201 });
    expect(cut.attempts[0].note).toMatch(/^response body not read: /);
  });

  it("does not follow a redirect, and says where it pointed", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/moved`, retries: 0 });
    t.receiver.replyWith({ status: 301, headers: { location: "https://crm.example.com/calls" } });
    const [delivery] = await deliveriesOf(t.gw, await deliverOne());
    expect(t.receiver.requests).toHaveLength(1);
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts[0].error).toBe("HTTP 301: redirect to https://crm.example.com/calls not followed (set the rule's URL to it)");
  });

  it("records a connection failure as an attempt error", async () => {
    await createWebhook(t.gw, { url: "http://127.0.0.1:9/nothing-listens", retries: 0 });
    const [delivery] = await deliveriesOf(t.gw, await deliverOne());
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts[0].error).toMatch(/ECONNREFUSED|fetch failed|connection/i);
  });

  it("a manual retry sends a failed delivery again with the same webhook-id", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/later`, retries: 0 });
    t.receiver.replyWith({ status: 500 });
    const [failed] = await deliveriesOf(t.gw, await deliverOne());
    expect(failed.status).toBe("failed");
    const retry = await t.gw.api("POST", `/api/deliveries/${failed.id}/retry`);
    expect(retry.status).toBe(202);
    await t.gw.settle();
    const after = (await t.gw.api("GET", `/api/deliveries/${failed.id}`)).body;
    expect(after.status).toBe("delivered");
    expect(t.receiver.requests[1].headers["webhook-id"]).toBe(t.receiver.requests[0].headers["webhook-id"]);
    expect(t.receiver.requests[1].body).toBe(t.receiver.requests[0].body);

    // A delivered one may be sent again too; if that fails, it is failed, not delivered at some earlier time.
    t.receiver.replyWith({ status: 500 });
    expect((await t.gw.api("POST", `/api/deliveries/${failed.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    const again = (await t.gw.api("GET", `/api/deliveries/${failed.id}`)).body;
    expect(again).toMatchObject({ status: "failed", delivered_at: null, last_status_code: 500 });
    expect(t.receiver.requests).toHaveLength(3);
  });

  it("a manual retry sends a pending delivery now instead of at its next attempt; one being sent is left alone", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/fixed`, retries: 3 });
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "3600" } });
    const [waiting] = await deliveriesOf(t.gw, await deliverOne());
    expect(waiting).toMatchObject({ status: "pending", attempt_count: 1, max_attempts: 4 });
    // The receiver is fixed: no need to wait an hour.
    const retry = await t.gw.api("POST", `/api/deliveries/${waiting.id}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ status: "pending", max_attempts: 5 });
    await t.gw.settle();
    expect((await t.gw.api("GET", `/api/deliveries/${waiting.id}`)).body).toMatchObject({ status: "delivered", attempt_count: 2 });
    expect(t.receiver.requests).toHaveLength(2);
    expect(t.receiver.requests[1].headers["webhook-id"]).toBe(t.receiver.requests[0].headers["webhook-id"]);
    // The hour it waited for passes: nothing more is sent.
    t.gw.clock.advance(3_600_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(2);

    // One being sent (held by a dispatcher until its lease ends) is not sent a second time.
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "3600" } });
    const [held] = await deliveriesOf(t.gw, await deliverOne());
    await t.gw.sql("UPDATE deliveries SET status = 'delivering', lease_until = ? WHERE id = ?", [t.gw.clock.now() + 60_000, held.id]);
    const refused = await t.gw.api("POST", `/api/deliveries/${held.id}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(`Delivery ${held.id} is being sent, or its next attempt is due within seconds: look again shortly`);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(3);
  });

  it("a manual retry's budget backs off from the schedule's first wait, not from where the last budget ended", async () => {
    // TEST_SCHEDULE: 1 s, 2 s, 4 s, 8 s, 16 s... Waits up to 10 s are sent within settle(), later ones need a sweep.
    await createWebhook(t.gw, { url: `${t.receiver.url}/flaky`, retries: 3 });
    t.receiver.replyWith({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    const [failed] = await deliveriesOf(t.gw, await deliverOne());
    expect(failed).toMatchObject({ status: "failed", attempt_count: 4, max_attempts: 4 });
    t.receiver.replyWith({ status: 503 }, { status: 503 }, { status: 200 });
    expect((await t.gw.api("POST", `/api/deliveries/${failed.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    const after = (await t.gw.api("GET", `/api/deliveries/${failed.id}`)).body;
    // Before: the 5th attempt's retry waited the 5th wait (16 s here, 1.8 hours with the default schedule).
    expect(after).toMatchObject({ status: "delivered", attempt_count: 7, max_attempts: 8 });
    const starts = after.attempts.map((a: { started_at: string }) => Date.parse(a.started_at));
    const waits = starts.slice(1).map((start: number, i: number) => start - starts[i]);
    expect([...waits.slice(0, 3), ...waits.slice(4)]).toEqual([1_000, 2_000, 4_000, 1_000, 2_000]);
  });
});

describe("delay and durability", () => {
  it("holds the first attempt back for delay_seconds, durably", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/delayed`, delay_seconds: 60 });
    const eventId = await deliverOne();
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(0);
    const [pending] = await deliveriesOf(t.gw, eventId);
    expect(pending.status).toBe("pending");
    t.gw.clock.advance(59_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(0);
    t.gw.clock.advance(1_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
  });

  it("sends everything due at a sweep, not just a batch of it", async () => {
    // Two rules delayed a second at 150 calls a second, or a CRM's backlog once it is back, are more than one
    // batch (200) a second: the sweep goes on as long as it finds full batches.
    await createWebhook(t.gw, { url: `${t.receiver.url}/delayed`, delay_seconds: 1 });
    const events = 450;
    const answer = await ingest(t.gw, t.source, Array.from({ length: events }, () => callEvent()));
    expect(answer.status).toBe(202);
    t.gw.clock.advance(1_000);
    await t.gw.sweep();
    // Before: 200, then 200 more a second later.
    expect(t.receiver.requests).toHaveLength(events);
  });
});

describe("render failures", () => {
  it("fail that delivery visibly; the event and the other deliveries are unaffected", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/fine` });
    await createWebhook(t.gw, { url: `${t.receiver.url}/broken`, body_template: '{{> (lookup . "direction")}}' });
    await createWebhook(t.gw, { url: `${t.receiver.url}/slow-expr`, params: { x: "($f := function($n){ $f($n + 1) }; $f(0))" } });
    const eventId = await deliverOne();
    expect(t.receiver.requests.map((r) => r.path)).toEqual(["/fine"]);
    const deliveries = await deliveriesOf(t.gw, eventId);
    const byStatus = deliveries.map((d: { status: string }) => d.status).sort();
    expect(byStatus).toEqual(["delivered", "failed", "failed"]);
    for (const failed of deliveries.filter((d: { status: string }) => d.status === "failed")) {
      expect(failed.request).toBeNull();
      expect(failed.attempts).toHaveLength(1);
      expect(failed.attempts[0].error).toMatch(/^render failed: (body_template|params\.x):/);
    }
  });

  it("a retry by hand renders anew: 422 naming the field while the template is broken, sent once it is fixed", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/mended`, body_template: '{{> (lookup . "direction")}}' });
    const event = callEvent();
    const [failed] = await deliveriesOf(t.gw, await deliverOne(event));
    expect(failed).toMatchObject({ status: "failed", request: null });
    const refused = await t.gw.api("POST", `/api/deliveries/${failed.id}/retry`);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: "render_failed", details: [{ field: "body_template" }] } });
    expect(refused.body.error.details[0].message).toMatch(/inbound/);

    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { body_template: '{"call":"{{uniqueid}}"}' })).status).toBe(200);
    expect((await t.gw.api("POST", `/api/deliveries/${failed.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    expect((await t.gw.api("GET", `/api/deliveries/${failed.id}`)).body.status).toBe("delivered");
    expect(JSON.parse(t.receiver.requests[0].body)).toEqual({ call: event.uniqueid });
  });

  it("sends header values as UTF-8 on both runtimes, and fails a delivery whose header would break a line", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/caller`, headers: { "X-Caller": "{{caller_name}}" } });
    const [broken] = await deliveriesOf(t.gw, await deliverOne(callEvent({ caller_name: "Jane\r\nX-Injected: 1" })));
    expect(broken).toMatchObject({ status: "failed", attempt_count: 1 });
    expect(broken.attempts[0].error).toBe("render failed: headers.X-Caller: rendered value contains a line break");
    expect(t.receiver.requests).toHaveLength(0);

    for (const caller_name of ["Zoë 😀", "שלום", "Jané"]) {
      const [delivery] = await deliveriesOf(t.gw, await deliverOne(callEvent({ caller_name })));
      expect(delivery.status).toBe("delivered");
      expect(delivery.request.headers["X-Caller"]).toBe(caller_name);
      // Node's HTTP server reads header bytes as Latin-1: read them again as UTF-8.
      const bytes = Uint8Array.from(t.receiver.requests.at(-1)!.headers["x-caller"] as string, (c) => c.charCodeAt(0));
      expect(new TextDecoder().decode(bytes)).toBe(caller_name);
    }
  });

  it("fails a delivery whose header value would carry a control character, which HTTP clients refuse, naming the header", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/caller`, headers: { "X-Name": "{{caller_name}}" } });
    for (const [caller_name, code] of [["a\u0001b", "U+0001"], ["a\u007fb", "U+007F"]]) {
      const preview = await t.gw.api("POST", `/api/webhooks/${hook.id}/preview`, { event: callEvent({ caller_name }) });
      expect(preview.status).toBe(422);
      expect(preview.body.error.details[0].field).toBe("headers.X-Name");
      const [delivery] = await deliveriesOf(t.gw, await deliverOne(callEvent({ caller_name })));
      expect(delivery).toMatchObject({ status: "failed", attempt_count: 1 });
      expect(delivery.attempts[0].error).toBe(
        `render failed: headers.X-Name: rendered value contains the control character ${code}, which a header value cannot carry (only tab is allowed)`,
      );
    }
    expect(t.receiver.requests).toHaveLength(0);
    await deliverOne(callEvent({ caller_name: "a\tb" }));
    expect(t.receiver.requests[0].headers["x-name"]).toBe("a\tb");
  });
});

import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { uuidV5 } from "../src/domain/uuid.js";
import { callEvent } from "./support/events.js";
import { deliveriesOf, ingest } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { Receiver, type Received, type Reply } from "./support/receiver.js";

// The receiver stands in for the CRM each preset posts to.
const t = gatewayPerTest();

async function createRule(body: Record<string, unknown>) {
  const created = await t.gw.api("POST", "/api/webhooks", { name: "preset rule", ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

async function deliver(event = callEvent()) {
  const answer = await ingest(t.gw, t.source, event);
  await t.gw.settle();
  return deliveriesOf(t.gw, answer.body.event_id);
}

const json = (body: unknown): Reply => ({ status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("Tradersoft preset", () => {
  // The interlayer as documented: form fields, secretKey in the body, a numeric `code` in a 200 reply.
  const SECRET_KEY = "ts&key=+/%20 secret";
  function tradersoft(request: Received): Reply {
    const form = new URLSearchParams(request.body);
    if (form.get("secretKey") !== SECRET_KEY) return json({ code: 8, message: "Token invalid" });
    if (!form.get("phone")) return json({ code: 2, message: "Required field missing: phone" });
    return json({ code: 0, message: "OK", result: { callLogId: 991 } });
  }

  it("posts the call as a form with secretKey and checks the reply code", async () => {
    t.receiver.handler = tradersoft;
    await createRule({ preset: "tradersoft", preset_config: { base_url: t.receiver.url, secret_key: SECRET_KEY } });
    const [delivery] = await deliver(callEvent({ uniqueid: "777.1" }));
    expect(delivery.status).toBe("delivered");
    const [request] = t.receiver.requests;
    expect(request.path).toBe("/api/addCallLog/");
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      secretKey: SECRET_KEY,
      leadId: "1234",
      phone: "+15551234567",
      direction: "inbound",
      status: "answered",
      startTime: "2026-11-20T14:03:00Z",
      answerTime: "2026-11-20T14:03:12Z",
      endTime: "2026-11-20T14:08:40Z",
      duration: "340",
      billDuration: "328",
      agentExtension: "201",
      agentName: "Alex Agent",
      callId: "777.1",
      recordingUrl: "https://recordings.example.com/10000000.1000.mp3",
      hangupCause: "ANSWERED",
    });
    // The delivery log shows the form with the secret masked.
    expect(delivery.request.body).toContain("secretKey=****");
    expect(JSON.stringify(delivery)).not.toContain("ts%26key");
  });

  it("treats a 200 with a non-zero code as a failed attempt, explained; code 100 is retried", async () => {
    t.receiver.handler = tradersoft;
    await createRule({ preset: "tradersoft", preset_config: { base_url: t.receiver.url, secret_key: "wrong-secret-key" } });
    const [rejected] = await deliver();
    expect(rejected.status).toBe("failed");
    expect(rejected.attempts).toHaveLength(1);
    expect(rejected.attempts[0]).toMatchObject({ status_code: 200, error: "Tradersoft code 8: token invalid (check the rule's secret_key setting)" });

    t.receiver.replyWith(json({ code: 100 }));
    t.receiver.handler = () => json({ code: 0 });
    const rules = (await t.gw.api("GET", "/api/webhooks")).body.data;
    await t.gw.api("PATCH", `/api/webhooks/${rules[0].id}`, { preset_config: { secret_key: SECRET_KEY } });
    const [retried] = await deliver();
    expect(retried.status).toBe("delivered");
    expect(retried.attempts.map((a: { error: string | null }) => a.error)).toEqual(["Tradersoft code 100: unspecified error", null]);
  });

  it("reads the code of a reply longer than the attempt log keeps", async () => {
    // A success that carries data past the log's 4 KiB is still a success, not "not JSON".
    t.receiver.handler = () => json({ code: 0, message: "OK", result: { callLogId: 991, notes: "é".repeat(3000) } });
    await createRule({ preset: "tradersoft", preset_config: { base_url: t.receiver.url, secret_key: SECRET_KEY } });
    const [delivery] = await deliver();
    expect(delivery.status, JSON.stringify(delivery.attempts[0].error)).toBe("delivered");
    expect(t.receiver.requests).toHaveLength(1);
    const logged = delivery.attempts[0].response_body;
    expect(new TextEncoder().encode(logged).length).toBeLessThanOrEqual(4096);
    expect(logged.startsWith('{"code":0,"message":"OK"')).toBe(true);
  });

  it("hides the secret a reply echoes (an error quoting the request) in the delivery log, as sent or encoded", async () => {
    // Interlayers quote what they got when they refuse it: the secretKey as sent, decoded, or JSON-escaped.
    t.receiver.handler = (request) =>
      json({ code: 3, message: `field not valid in ${request.body}`, got: Object.fromEntries(new URLSearchParams(request.body)) });
    await createRule({ preset: "tradersoft", preset_config: { base_url: t.receiver.url, secret_key: SECRET_KEY } });
    const [delivery] = await deliver();
    expect(delivery.status).toBe("failed");
    expect(new URLSearchParams(t.receiver.requests[0].body).get("secretKey")).toBe(SECRET_KEY);
    const logged = delivery.attempts[0].response_body as string;
    expect(logged).toContain('"secretKey":"****"');
    expect(logged).toContain("secretKey=****&");
    for (const form of [SECRET_KEY, encodeURIComponent(SECRET_KEY), new URLSearchParams({ k: SECRET_KEY }).toString().slice(2)]) {
      expect(JSON.stringify(delivery), form).not.toContain(form);
    }
  });

  it("lets the path and the field names be changed", async () => {
    t.receiver.handler = () => json({ code: 0 });
    await createRule({
      preset: "tradersoft",
      preset_config: { base_url: t.receiver.url, secret_key: SECRET_KEY, path: "/api/v2/calls/" },
      params: { secretKey: "config.secret_key", account: "leadid", msisdn: "src" },
    });
    await deliver();
    expect(t.receiver.requests[0].path).toBe("/api/v2/calls/");
    expect(Object.fromEntries(new URLSearchParams(t.receiver.requests[0].body))).toEqual({
      secretKey: SECRET_KEY,
      account: "1234",
      msisdn: "+15551234567",
    });
  });
  it("refuses an action path that does not start with /, which would change the host the secretKey goes to", async () => {
    for (const path of ["api/addCallLog/", ".evil.example/api/"]) {
      const refused = await t.gw.api("POST", "/api/webhooks", {
        name: "x",
        preset: "tradersoft",
        preset_config: { base_url: "https://crm.broker.example", secret_key: SECRET_KEY, path },
      });
      expect(refused.status, path).toBe(400);
      expect(refused.body.error.details).toEqual([{ field: "preset_config.path", message: "must be written like /api/addCallLog/" }]);
    }
  });

  it("escapes a secret in the body as the body was rendered, whatever Content-Type header the rule sets", async () => {
    t.receiver.handler = () => json({ code: 0 });
    const quoted = 'ts"key\\ secret';
    await createRule({
      preset: "tradersoft",
      preset_config: { base_url: t.receiver.url, secret_key: quoted },
      method: "POST_JSON",
      headers: { "Content-Type": "text/plain" },
      params: { secretKey: "config.secret_key", phone: "src" },
    });
    const [delivery] = await deliver();
    expect(delivery.status).toBe("delivered");
    expect(JSON.parse(t.receiver.requests[0].body)).toEqual({ secretKey: quoted, phone: "+15551234567" });
  });

  it("escapes a secret as its stored request was rendered, even when the rule's method changed since", async () => {
    let answer = json({ code: 100 });
    t.receiver.handler = () => answer;
    const quoted = 'k e+y&x=1"q';
    const rule = await createRule({ preset: "tradersoft", preset_config: { base_url: t.receiver.url, secret_key: quoted }, retries: 0 });
    const [first] = await deliver();
    expect(first.status).toBe("failed");
    expect(new URLSearchParams(t.receiver.requests[0].body).get("secretKey")).toBe(quoted);
    // The rule now sends JSON; the stored form is retried as the form it is, its secret form-encoded.
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { method: "POST_JSON" })).status).toBe(200);
    answer = json({ code: 0 });
    expect((await t.gw.api("POST", `/api/deliveries/${first.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(2);
    const form = new URLSearchParams(t.receiver.requests[1].body);
    expect(form.get("secretKey")).toBe(quoted);
    expect(form.has("x")).toBe(false);
  });

  it("sends the current secret only to the CRM URL the rule names now: a delivery made for the old one is made anew when retried", async () => {
    // The CRM URL was mistyped (or the CRM moved): its deliveries failed, and the rule now names another host
    // with a new secretKey. The old host must never get the new key.
    const moved = await new Receiver().start();
    try {
      t.receiver.replyWith({ status: 503 }, { status: 503, headers: { "retry-after": "60" } });
      moved.handler = () => json({ code: 0 });
      const rule = await createRule({ preset: "tradersoft", preset_config: { base_url: t.receiver.url, secret_key: SECRET_KEY }, retries: 0 });
      const [failed] = await deliver(callEvent({ uniqueid: "old.1" }));
      expect(failed.status).toBe("failed");
      expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { retries: 1 })).status).toBe(200);
      const [waiting] = await deliver(callEvent({ uniqueid: "old.2" }));
      expect(waiting.status).toBe("pending");
      expect(t.receiver.requests).toHaveLength(2);

      const newKey = "ts-new-secret-key-2026";
      const patched = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { preset_config: { base_url: moved.url, secret_key: newKey } });
      expect(patched.status).toBe(200);
      // The one waiting for its next attempt is not sent to the old host with the new key.
      t.gw.clock.advance(60_000);
      await t.gw.sweep();
      const refused = (await t.gw.api("GET", `/api/deliveries/${waiting.id}`)).body;
      expect(refused).toMatchObject({ status: "failed", request: { url: `${t.receiver.url}/api/addCallLog/` } });
      expect(refused.last_error).toMatch(/^not sent: the rule sends elsewhere since this delivery was made .*retried by hand, it is made anew for where the rule sends now/);
      expect(t.receiver.requests).toHaveLength(2);
      expect(moved.requests).toHaveLength(0);

      // Retried by hand, each is made anew for the URL the rule names now, and goes there with the new key.
      expect((await t.gw.api("POST", `/api/deliveries/${failed.id}/retry`)).status).toBe(202);
      expect((await t.gw.api("POST", `/api/webhooks/${rule.id}/recover`, { since: failed.created_at })).body).toMatchObject({ retried: 1, render_failed: 0 });
      await t.gw.settle();
      for (const id of [failed.id, waiting.id]) {
        expect((await t.gw.api("GET", `/api/deliveries/${id}`)).body).toMatchObject({ status: "delivered", request: { url: `${moved.url}/api/addCallLog/` } });
      }
      expect(t.receiver.requests).toHaveLength(2);
      expect(moved.requests.map((r) => new URLSearchParams(r.body).get("secretKey"))).toEqual([newKey, newKey]);
      expect(moved.requests.map((r) => new URLSearchParams(r.body).get("callId")).sort()).toEqual(["old.1", "old.2"]);
    } finally {
      await moved.stop();
    }
  });

  it("refuses a secret changed by an expression or helper, which would be sent as placeholder text", async () => {
    t.receiver.handler = () => json({ code: 0 });
    const config = { base_url: t.receiver.url, secret_key: SECRET_KEY };
    const changes: Array<[Record<string, unknown>, string]> = [
      [{ params: { secretKey: "$uppercase(config.secret_key)" } }, "params"],
      [{ params: { sig: "$base64encode('acct:' & config.secret_key)" } }, "params"],
      [{ params: { part: "$substring(config.secret_key, 3)" } }, "params"],
      [{ params: { cut: "$substring(config.secret_key, 18)" } }, "params"],
      [{ params: { renamed: "$replace(config.secret_key, 'secret_key', 'other_key')" } }, "params"],
      [{ headers: { "X-Trace": "{{upper config.secret_key}}" } }, "headers.X-Trace"],
      [{ method: "POST_JSON", body_template: '{"key": "{{lower config.secret_key}}"}', content_type: "application/json" }, "body_template"],
    ];
    for (const [change, field] of changes) {
      const previewed = await t.gw.api("POST", "/api/preview", { webhook: { preset: "tradersoft", preset_config: config, ...change } });
      expect(previewed.status, JSON.stringify(change)).toBe(422);
      expect(previewed.body.error.details).toEqual([{ field, message: expect.stringContaining("a secret setting is changed here") }]);
    }
    await createRule({ preset: "tradersoft", preset_config: config, params: { secretKey: "$uppercase(config.secret_key)" } });
    const [delivery] = await deliver();
    expect(delivery.status).toBe("failed");
    expect(delivery.last_error).toContain("params: a secret setting is changed here");
    expect(t.receiver.requests).toHaveLength(0);
    // Joined to other text, it is still inserted as it is: filled in, and previewed as what is sent.
    t.receiver.requests.length = 0;
    const joined = { base_url: t.receiver.url, secret_key: SECRET_KEY, path: "/joined/" };
    const joinedParams = { secretKey: "config.secret_key", suffixed: "config.secret_key & '_' & uniqueid", dbl: "config.secret_key & '__v2'" };
    const shown = await t.gw.api("POST", "/api/preview", { webhook: { preset: "tradersoft", preset_config: joined, params: joinedParams } });
    expect(shown.status).toBe(200);
    expect(Object.fromEntries(new URLSearchParams(shown.body.body))).toEqual({ secretKey: "****", suffixed: "****_10000000.1000", dbl: "****__v2" });
    await createRule({ preset: "tradersoft", preset_config: joined, params: joinedParams });
    await deliver(callEvent({ uniqueid: "10000000.1000" }));
    const sent = t.receiver.requests.find((r) => r.path === "/joined/")!;
    expect(Object.fromEntries(new URLSearchParams(sent.body))).toEqual({ secretKey: SECRET_KEY, suffixed: `${SECRET_KEY}_10000000.1000`, dbl: `${SECRET_KEY}__v2` });
    // Inserted as it is, it is filled in; event text that looks like a placeholder is sent as text.
    const plain = await t.gw.api("POST", "/api/preview", { webhook: { preset: "tradersoft", preset_config: config }, event: { type: "call.end", uniqueid: "1", caller_name: "__SECRET__secret_key__" } });
    expect(plain.status).toBe(200);
  });
});

describe("VoIP Cloud preset", () => {
  const SIGNING_SECRET = "leverate-shared-secret-42";

  /** Verifies `ms-signature` as VoIP Cloud does, and refuses an unsigned or wrongly signed request. */
  function voipCloud(request: Received): Reply {
    const expected = `sha256=${createHmac("sha256", SIGNING_SECRET).update(request.body).digest("hex")}`;
    if (request.headers["ms-signature"] !== expected) return { status: 401, body: "bad signature" };
    return { status: 200, body: "" };
  }

  it("reports each stage of a call as the matching VoIP Cloud event, signed, with a stable UUID callId", async () => {
    t.receiver.handler = voipCloud;
    await createRule({
      preset: "voipcloud",
      preset_config: { base_url: t.receiver.url, provider_user: "pbx-acme", api_code: "ACME-01", signing_secret: SIGNING_SECRET },
    });
    const call = { uniqueid: "10000000.1000", leadid: "1234" };
    await deliver(callEvent({ ...call, type: "call.start", status: "ringing", occurred_at: "2026-11-20T14:03:00Z" }));
    await deliver(callEvent({ ...call, type: "call.answer", status: "answered", occurred_at: "2026-11-20T14:03:12Z" }));
    await deliver(callEvent({ ...call, type: "call.end", occurred_at: "2026-11-20T14:08:40Z" }));
    await deliver(callEvent({ ...call, type: "recording", occurred_at: "2026-11-20T14:09:00Z" }));
    await deliver(callEvent({ uniqueid: "10000000.2000", type: "call.end", status: "no_answer", occurred_at: "2026-11-20T15:00:00Z" }));

    expect(t.receiver.requests.every((r) => r.path === "/api/webhooks/incoming/voip/pbx-acme")).toBe(true);
    const bodies = t.receiver.requests.map((r) => JSON.parse(r.body));
    const callId = uuidV5("10000000.1000");
    const common = { apiCode: "ACME-01", callId };
    expect(bodies[0]).toEqual({
      event: "CallStarted", state: "started", ...common, timestamp: 1795183380, actualTime: "2026-11-20T14:03:00.000Z",
      from: "+15551234567", to: "+15557654321", direction: "incoming",
      metadata: { uniqueid: "10000000.1000", leadId: "1234", agentExtension: "201" },
    });
    expect(bodies[1]).toMatchObject({ event: "CallStarted", state: "answered", ...common, actualTime: "2026-11-20T14:03:12.000Z" });
    expect(bodies[2]).toEqual({
      event: "CallCompleted", state: "completed", ...common, timestamp: 1795183720, actualTime: "2026-11-20T14:08:40.000Z", duration: 328,
    });
    expect(bodies[3]).toMatchObject({
      event: "CallRecordingReady", state: "recording-available", ...common,
      recordingUri: "https://recordings.example.com/10000000.1000.mp3",
    });
    expect(bodies[4]).toMatchObject({ event: "CallAborted", state: "no-answer", callId: uuidV5("10000000.2000") });
    expect(callId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const statuses = (await t.gw.api("GET", "/api/deliveries?status=delivered")).body.data;
    expect(statuses).toHaveLength(5);
  });

  it("reports a call that begins ringing (VoIPcloud inbound, VoIPAppz) as CallStarted, so a missed call has its caller", async () => {
    t.receiver.handler = voipCloud;
    await createRule({
      preset: "voipcloud",
      preset_config: { base_url: t.receiver.url, provider_user: "pbx-acme", api_code: "ACME-01", signing_secret: SIGNING_SECRET },
    });
    const call = { uniqueid: "10000000.3000", agent: null };
    await deliver(callEvent({ ...call, type: "call.ringing", status: "ringing", occurred_at: "2026-11-20T14:03:00Z" }));
    await deliver(callEvent({ ...call, type: "call.end", status: "no_answer", hangup_cause: "NO_ANSWER", occurred_at: "2026-11-20T14:03:30Z" }));
    const bodies = t.receiver.requests.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => [b.event, b.state])).toEqual([["CallStarted", "started"], ["CallAborted", "no-answer"]]);
    expect(bodies[0]).toMatchObject({ from: "+15551234567", to: "+15557654321", direction: "incoming", callId: uuidV5("10000000.3000") });
  });

  it("a request the service cannot verify fails without retries", async () => {
    t.receiver.handler = voipCloud;
    await createRule({
      preset: "voipcloud",
      preset_config: { base_url: t.receiver.url, provider_user: "pbx-acme", api_code: "ACME-01", signing_secret: "not-the-shared-one" },
    });
    const [delivery] = await deliver(callEvent({ type: "call.end" }));
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].status_code).toBe(401);
  });

  it("fails at once, naming the header, a request whose header gets a secret the HTTP client refuses", async () => {
    // The secret is filled in only when sending, past the checks made when rendering.
    await createRule({
      preset: "voipcloud",
      preset_config: { base_url: t.receiver.url, provider_user: "pbx-acme", api_code: "ACME-01", signing_secret: "a\u0001b" },
      headers: { "X-Key": "{{config.signing_secret}}" },
    });
    const [delivery] = await deliver(callEvent({ type: "call.end" }));
    expect(delivery).toMatchObject({ status: "failed", attempt_count: 1 });
    // Node's client refuses to send it; Workers send it, and the receiver's HTTP server answers 400.
    expect(delivery.attempts[0].error).toMatch(/^(fetch failed: invalid X-Key header \(UND_ERR_INVALID_ARG\)|HTTP 400)$/);
    expect(t.receiver.requests).toHaveLength(0);
  });

  it("previews the body with the signature masked", async () => {
    const rule = await createRule({
      preset: "voipcloud",
      preset_config: { base_url: t.receiver.url, provider_user: "pbx-acme", api_code: "ACME-01", signing_secret: SIGNING_SECRET },
    });
    const preview = await t.gw.api("POST", `/api/webhooks/${rule.id}/preview`, { event: callEvent({ type: "call.start" }) });
    expect(preview.status).toBe(200);
    expect(preview.body.headers["ms-signature"]).toBe("sha256=****");
    expect(JSON.parse(preview.body.body).event).toBe("CallStarted");
    expect(JSON.stringify(preview.body)).not.toContain(SIGNING_SECRET);
  });
});

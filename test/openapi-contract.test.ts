import { beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { projectJson } from "./support/files.js";
import { ADMIN_TOKEN, type Answer, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { OpenApiContract } from "./support/openapi-contract.js";

// Each answer of a realistic session, success and error alike, checked against what /openapi.json says that
// route answers with that status: integrators generate their clients from the document.

let contract: OpenApiContract;

/** Spent by the session's last steps: ingest requests of one source, and wrong admin tokens (burst / 60 per second, as workerd takes it). */
const LIMITS = { ingest: { perSecond: 1, burst: 20 }, adminAuthFailures: { perSecond: 10 / 60, burst: 10 } };

const t = gatewayPerTest({ start: () => startGateway({ rateLimits: LIMITS }), source: false });
beforeEach(async () => {
  contract = new OpenApiContract((await t.gw.send("/openapi.json", {})).body);
});

/** Checks an answer against the document, and that it is the status the step expects; returns its body. */
function checked(method: string, path: string, answer: Answer, status: number): any {
  const label = `${method} ${path}`;
  expect(answer.status, `${label}: ${JSON.stringify(answer.body)?.slice(0, 500)}`).toBe(status);
  expect(contract.problems(method, path, answer), label).toEqual([]);
  return answer.body;
}

/** An admin API call as a client makes it. */
const api = async (method: string, path: string, status: number, body?: unknown) => checked(method, path, await t.gw.api(method, path, body), status);

/** Any request, as sent. */
const send = async (method: string, path: string, status: number, init: RequestInit = {}) => checked(method, path, await t.gw.send(path, { method, ...init }), status);

/** A PBX posting to a source with its bearer secret. */
const post = (source: { id: string; secret: string }, status: number, payload: unknown, headers: Record<string, string> = {}) =>
  send("POST", `/ingest/${source.id}`, status, {
    headers: { authorization: `Bearer ${source.secret}`, "content-type": "application/json", ...headers },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe("every answer is what /openapi.json describes for its route and status", () => {
  it("through a realistic session: sources, rules of each kind, ingest, events, deliveries, previews, test sends and errors", async () => {
    await send("GET", "/openapi.json", 200);
    await send("GET", "/health", 200);
    await send("GET", "/metrics", 200);

    // Sources: the secret in full once, then masked.
    const source = await api("POST", "/api/sources", 201, { name: "Office PBX", kind: "canonical" });
    const wildix = await api("POST", "/api/sources", 201, { name: "Wildix", kind: "wildix", secret: "wildix-secret-0123456789" });
    const voipappz = await api("POST", "/api/sources", 201, { name: "VoIPAppz", kind: "voipappz" });
    expect((await api("GET", "/api/sources", 200)).data).toHaveLength(3);
    expect((await api("GET", `/api/sources/${source.id}`, 200)).secret).toMatch(/^\*\*\*\*/);
    await api("PATCH", `/api/sources/${wildix.id}`, 200, { name: "Wildix HQ", secret: "wildix-secret-rotated-42" });
    await api("POST", "/api/sources", 400, { name: "", kind: "asterisk" });
    await send("POST", "/api/sources", 415, { headers: { ...ADMIN, "content-type": "text/plain" }, body: "{}" });
    await api("GET", "/api/sources/src_missing", 404);
    await api("PATCH", "/api/sources/src_missing", 404, { name: "x" });

    // A rule of each method, a preset one, an SQS one (disabled: previewed, never sent), one that cannot render.
    const url = (path: string) => `${t.receiver.url}${path}`;
    const rules = {
      get: await api("POST", "/api/webhooks", 201, {
        name: "GET",
        events: ["call.end"],
        method: "GET",
        url: url("/calls/{{uniqueid}}"),
        params: { phone: "src" },
        headers: { Authorization: "Bearer crm-token-0123456789abcdef", "X-Call": "{{uniqueid}}" },
      }),
      form: await api("POST", "/api/webhooks", 201, {
        name: "Form POST",
        events: ["call.end", "call.start"],
        method: "POST",
        url: url("/form"),
        params: { phone: "src", minutes: "$round(bill_duration / 60)" },
        filter: 'direction = "inbound"',
        call_types: ["inbound"],
        source_ids: [source.id],
        hangup_causes: { ANSWERED: "answered" },
      }),
      json: await api("POST", "/api/webhooks", 201, {
        name: "JSON",
        events: ["call.end"],
        url: url("/json"),
        body_template: '{"id": "{{uniqueid}}", "from": "{{src}}"}',
        signing: "hmac-hex",
        secret: "my-own-signing-secret-0123",
      }),
      put: await api("POST", "/api/webhooks", 201, { name: "PUT", events: ["call.end"], method: "PUT", url: url("/put"), body_template: "{{uniqueid}}", content_type: "text/plain" }),
      patch: await api("POST", "/api/webhooks", 201, { name: "PATCH", events: ["call.end"], method: "PATCH", url: url("/patch"), params: "{ 'phone': src }", delay_seconds: 0 }),
      preset: await api("POST", "/api/webhooks", 201, {
        name: "Tradersoft",
        preset: "tradersoft",
        preset_config: { base_url: t.receiver.url, secret_key: "tradersoft-secret-key-42" },
      }),
      sqs: await api("POST", "/api/webhooks", 201, {
        name: "SQS",
        enabled: false,
        events: ["call.end"],
        transport: "sqs",
        url: "http://127.0.0.1:9/000000000000/calls.fifo",
        sqs: { region: "us-east-1", access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
      }),
      broken: await api("POST", "/api/webhooks", 201, { name: "Broken", events: ["call.end"], url: url("/never"), params: { x: '$error("boom")' } }),
    };
    expect(rules.json.secret).toBe("my-own-signing-secret-0123");
    expect((await api("GET", "/api/webhooks", 200)).data).toHaveLength(8);
    expect((await api("GET", `/api/webhooks/${rules.get.id}`, 200)).headers.Authorization).toMatch(/^Bearer \*\*\*\*/);
    expect((await api("GET", `/api/webhooks/${rules.sqs.id}`, 200)).sqs.secret_access_key).toMatch(/^\*\*\*\*/);
    await api("PATCH", `/api/webhooks/${rules.put.id}`, 200, { retries: 5, secret: "a-new-signing-secret-0123" });
    await api("POST", "/api/webhooks", 400, { name: "No URL", events: ["call.end"] });
    await api("POST", "/api/webhooks", 422, { name: "Broken template", events: ["call.end"], url: url("/x"), body_template: "{{#if}}" });
    await send("POST", "/api/webhooks", 415, { headers: ADMIN, body: "{}" });
    await api("PATCH", `/api/webhooks/${rules.put.id}`, 422, { filter: "(((" });
    await api("PATCH", "/api/webhooks/whk_missing", 404, { retries: 1 });
    await api("GET", "/api/webhooks/whk_missing", 404);

    // Ingest: one event, its repeat, a batch, another PBX's payload under any Content-Type; then refusals.
    // A second on, so that the rules above are older than the events (the event detail tells apart rules changed since).
    t.gw.clock.advance(1_000);
    const accepted = await post(source, 202, callEvent({ uniqueid: "call-1" }));
    expect((await post(source, 202, callEvent({ uniqueid: "call-1" }))).duplicate).toBe(true);
    expect((await post(source, 202, [callEvent(), callEvent({ type: "call.start" })])).events).toHaveLength(2);
    await send("POST", `/ingest/${voipappz.id}?token=${encodeURIComponent(voipappz.secret)}&event=Call:Hangup`, 202, {
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(projectJson("test/fixtures/voipappz/call-hangup.json")),
    });
    await post({ ...source, secret: "not-the-secret" }, 401, callEvent());
    await post({ id: "src_missing", secret: "x" }, 404, callEvent());
    await post(source, 400, "{not json");
    await post(source, 400, { uniqueid: "no type" });
    await post(source, 415, callEvent(), { "content-type": "text/plain" });
    await post(source, 413, Array.from({ length: 1_001 }, () => callEvent()));
    await api("PATCH", `/api/sources/${voipappz.id}`, 200, { enabled: false });
    await post(voipappz, 403, callEvent());
    await t.gw.settle();

    // Events and their deliveries; a page at a time.
    const firstPage = await api("GET", "/api/events?limit=2", 200);
    expect(firstPage.next_cursor).toEqual(expect.any(String));
    await api("GET", `/api/events?limit=2&cursor=${firstPage.next_cursor}`, 200);
    await api("GET", `/api/events?source_id=${source.id}&type=call.end`, 200);
    await api("GET", "/api/events?colour=blue", 400);
    const event = await api("GET", `/api/events/${accepted.event_id}`, 200);
    expect(event.deliveries.length).toBeGreaterThan(3);
    expect(event.rules_without_delivery).toEqual({ rules: [{ id: rules.sqs.id, name: "SQS", unmatched: "disabled", since_event: null }], more: 0 });
    await api("GET", "/api/events/evt_missing", 404);
    const deliveries = (await api("GET", "/api/deliveries?limit=200", 200)).data;
    await api("GET", `/api/deliveries?webhook_id=${rules.json.id}&status=delivered`, 200);
    await api("GET", "/api/deliveries?status=lost", 400);
    const ofRule = (rule: { id: string }) => deliveries.find((d: { webhook_id: string; event_id: string }) => d.webhook_id === rule.id && d.event_id === accepted.event_id);
    const delivered = await api("GET", `/api/deliveries/${ofRule(rules.json).id}`, 200);
    expect(delivered.attempts).toHaveLength(1);
    const unrendered = await api("GET", `/api/deliveries/${ofRule(rules.broken).id}`, 200);
    expect(unrendered.request).toBeNull();
    await api("GET", `/api/deliveries/${ofRule(rules.preset).id}`, 200);
    await api("GET", "/api/deliveries/dlv_missing", 404);

    // Retries: a delivered one again, one that still cannot render, one being sent.
    await api("POST", `/api/deliveries/${delivered.id}/retry`, 202);
    await api("POST", `/api/deliveries/${unrendered.id}/retry`, 422);
    const held = ofRule(rules.get);
    await t.gw.sql("UPDATE deliveries SET status = 'delivering', lease_until = ? WHERE id = ?", [t.gw.clock.now() + 60_000, held.id]);
    await api("POST", `/api/deliveries/${held.id}/retry`, 409);
    await api("POST", "/api/deliveries/dlv_missing/retry", 404);
    await t.gw.settle();

    // Recovering a rule's failed deliveries after an outage: a page of them; refused for a disabled rule or a bad window.
    const outageStart = new Date(t.gw.clock.now() - 3_600_000).toISOString();
    const unrenderable = (await api("GET", `/api/deliveries?webhook_id=${rules.broken.id}&status=failed`, 200)).data.length;
    expect(await api("POST", `/api/webhooks/${rules.broken.id}/recover`, 202, { since: outageStart })).toEqual({
      retried: 0,
      render_failed: unrenderable,
      more: false,
      next_cursor: null,
    });
    await api("POST", `/api/webhooks/${rules.sqs.id}/recover`, 409, { since: outageStart });
    await api("POST", `/api/webhooks/${rules.json.id}/recover`, 400, { since: outageStart, until: outageStart });
    await send("POST", `/api/webhooks/${rules.json.id}/recover`, 415, { headers: { ...ADMIN, "content-type": "text/plain" }, body: "{}" });
    await api("POST", "/api/webhooks/whk_missing/recover", 404, { since: outageStart });

    // Sending a rule the events it has no delivery of: this one has one of each already; refusals as recover's.
    expect(await api("POST", `/api/webhooks/${rules.json.id}/replay-missing`, 202, { since: outageStart })).toEqual({
      replayed: 0,
      render_failed: 0,
      more: false,
      next_cursor: null,
    });
    await api("POST", `/api/webhooks/${rules.sqs.id}/replay-missing`, 409, { since: outageStart });
    await api("POST", `/api/webhooks/${rules.json.id}/replay-missing`, 400, { since: outageStart, cursor: ofRule(rules.json).id });
    await send("POST", `/api/webhooks/${rules.json.id}/replay-missing`, 415, { headers: { ...ADMIN, "content-type": "text/plain" }, body: "{}" });
    await api("POST", "/api/webhooks/whk_missing/replay-missing", 404, { since: outageStart });

    // Previews: the sample, another source kind's, a stored event, an SQS message, an unsaved rule; and refusals.
    await send("POST", `/api/webhooks/${rules.get.id}/preview`, 200, { headers: ADMIN });
    await api("POST", `/api/webhooks/${rules.preset.id}/preview`, 200, { sample: "wildix" });
    await api("POST", `/api/webhooks/${rules.form.id}/preview`, 200, { event_id: accepted.event_id });
    expect((await api("POST", `/api/webhooks/${rules.sqs.id}/preview`, 200, {})).transport).toBe("sqs");
    await api("POST", `/api/webhooks/${rules.broken.id}/preview`, 422, {});
    await api("POST", `/api/webhooks/${rules.get.id}/preview`, 400, { sample: "wildix", event_id: accepted.event_id });
    await api("POST", `/api/webhooks/${rules.get.id}/preview`, 404, { event_id: "evt_missing" });
    await send("POST", `/api/webhooks/${rules.get.id}/preview`, 415, { headers: { ...ADMIN, "content-type": "text/plain" }, body: "{}" });
    await api("POST", "/api/webhooks/whk_missing/preview", 404, {});
    expect((await api("POST", "/api/preview", 200, { webhook: { url: url("/draft"), body_template: "{{src}}" }, event: callEvent() })).warnings).toHaveLength(1);
    await api("POST", "/api/preview", 400, { webhook: { url: "ftp://nowhere" } });
    await api("POST", "/api/preview", 422, { webhook: { url: url("/draft"), params: { x: '$error("boom")' } } });
    await api("POST", "/api/preview", 404, { webhook: { url: url("/draft") }, event_id: "evt_missing" });
    await send("POST", "/api/preview", 415, { headers: ADMIN, body: "{}" });

    // Test sends reach the receiver.
    const sent = t.receiver.requests.length;
    await api("POST", `/api/webhooks/${rules.json.id}/test`, 202, { sample: "voipcloud" });
    await send("POST", `/api/webhooks/${rules.put.id}/test`, 202, { headers: ADMIN });
    await t.gw.settle();
    expect(t.receiver.requests.length).toBe(sent + 2);
    // A receiver answering 410 Gone turns its rule off, and the rule says so; one turned off by hand says that.
    t.receiver.replyWith({ status: 410 });
    const gone = await api("POST", `/api/webhooks/${rules.put.id}/test`, 202, {});
    await t.gw.settle();
    expect((await api("GET", `/api/webhooks/${rules.put.id}`, 200)).disabled).toMatchObject({ reason: "gone", delivery_id: gone.id, status_code: 410 });
    expect((await api("GET", "/api/webhooks", 200)).data.find((w: { id: string }) => w.id === rules.sqs.id).disabled).toMatchObject({ reason: "manual" });
    await api("POST", `/api/webhooks/${rules.json.id}/test`, 400, { sample: "asterisk" });
    await api("POST", "/api/webhooks/whk_missing/test", 404, {});
    await send("POST", `/api/webhooks/${rules.json.id}/test`, 415, { headers: { ...ADMIN, "content-type": "text/plain" }, body: "{}" });

    await api("GET", "/api/samples", 200);
    await api("GET", "/api/presets", 200);
    await api("GET", "/api/presets/tradersoft", 200);
    await api("GET", "/api/presets/hubspot", 404);

    // Deleting: not a source a rule names.
    await api("DELETE", `/api/sources/${source.id}`, 409);
    await api("DELETE", `/api/webhooks/${rules.patch.id}`, 204);
    await api("DELETE", `/api/webhooks/${rules.patch.id}`, 404);
    await api("DELETE", `/api/sources/${wildix.id}`, 204);
    await api("DELETE", `/api/sources/${wildix.id}`, 404);

    // Limits: a body too large, a missing token, a source past its rate, an address past its wrong tokens.
    await api("POST", "/api/sources", 413, { name: "x".repeat(600 * 1024), kind: "canonical" });
    await send("GET", "/api/sources", 401);
    let status = 202;
    for (let i = 0; i < LIMITS.ingest.burst && status === 202; i++) status = (await t.gw.send(`/ingest/${source.id}`, ingestInit(source))).status;
    expect(status).toBe(429);
    await send("POST", `/ingest/${source.id}`, 429, ingestInit(source));
    for (let i = 0; i < LIMITS.adminAuthFailures.burst; i++) await send("GET", "/api/events", 401, { headers: { authorization: "Bearer wrong-token" } });
    await send("GET", "/api/events", 429, { headers: { authorization: "Bearer wrong-token" } });

    // Each operation's success was seen, and each error status the API has (503 is the disk-full test's).
    const success = (op: string) => (/^post \/api\/(sources|webhooks)$/.test(op) ? 201 : /^(post \/ingest|post .*\/(test|retry|recover|replay-missing))/.test(op) ? 202 : /^delete/.test(op) ? 204 : 200);
    expect(contract.unseen(contract.operations().map((op) => `${op} ${success(op)}`))).toEqual([]);
    const errorStatuses = new Set(contract.seen.map((s) => s.status).filter((s) => s >= 400));
    expect([...errorStatuses].sort()).toEqual([400, 401, 403, 404, 409, 413, 415, 422, 429]);
  });

  it("the check refuses what the document does not describe: a field too many or missing, a status, a content type", async () => {
    const answer = await t.gw.api("POST", "/api/sources", { name: "Office PBX", kind: "canonical" });
    expect(contract.problems("POST", "/api/sources", answer)).toEqual([]);
    const { secret: _secret, ...withoutSecret } = answer.body;
    const variants: Array<[string, Answer]> = [
      ["an extra field", { ...answer, body: { ...answer.body, internal_note: "x" } }],
      ["a missing field", { ...answer, body: withoutSecret }],
      ["a wrong type", { ...answer, body: { ...answer.body, enabled: "yes" } }],
      ["an undocumented status", { ...answer, status: 418 }],
      ["another content type", { ...answer, headers: new Headers({ "content-type": "text/html" }) }],
    ];
    for (const [what, variant] of variants) expect(contract.problems("POST", "/api/sources", variant), what).not.toEqual([]);
    expect(contract.problems("GET", "/api/nothing-here", answer)).not.toEqual([]);
  });
});

function ingestInit(source: { secret: string }): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${source.secret}`, "content-type": "application/json" },
    body: JSON.stringify(callEvent()),
  };
}

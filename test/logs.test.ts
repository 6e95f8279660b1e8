import { beforeEach, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { callEvent } from "./support/events.js";
import { ADMIN_TOKEN, createSource, createWebhook, ingest, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { parsePrometheus } from "./support/prometheus.js";

// Node only: the test reads the gateway's log lines through the logger it starts the gateway with.
let lines: string[];

beforeEach(() => {
  lines = [];
});
const t = gatewayPerTest({ start: () => startGateway({ log: createLogger("debug", (line) => lines.push(line)) }), source: false });

const entries = () => lines.map((line) => JSON.parse(line) as Record<string, any>);

it("logs JSON lines that tie ingest and every attempt to the event, delivery and webhook, never a secret", async () => {
  const source = await createSource(t.gw);
  const webhook = await createWebhook(t.gw, {
    url: `${t.receiver.url}/hook`,
    headers: { "X-Api-Key": "crm-key-never-logged" },
    params: { id: "uniqueid" },
    retries: 1,
  });
  const rejecting = await createWebhook(t.gw, { url: `${t.receiver.url}/reject`, params: { id: "uniqueid" } });
  // By path, not by arrival order: the two deliveries go out concurrently.
  let hookCalls = 0;
  t.receiver.handler = (request) => (request.path === "/reject" ? { status: 400 } : { status: ++hookCalls === 1 ? 503 : 200 });

  const answer = await ingest(t.gw, source, callEvent({ uniqueid: "log.1" }));
  expect(answer.status).toBe(202);
  const eventId = answer.body.event_id;
  await t.gw.settle();

  for (const entry of entries()) {
    expect(entry).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: expect.any(String), msg: expect.any(String) });
  }
  const accepted = entries().find((e) => e.msg === "event accepted")!;
  expect(accepted).toMatchObject({ level: "info", event_id: eventId, source_id: source.id, type: "call.end", uniqueid: "log.1" });
  expect(accepted.delivery_ids).toHaveLength(2);

  const [hookDelivery] = (await t.gw.api("GET", `/api/deliveries?webhook_id=${webhook.id}`)).body.data;
  const ids = { delivery_id: hookDelivery.id, event_id: eventId, webhook_id: webhook.id };
  expect(accepted.delivery_ids).toContain(hookDelivery.id);
  expect(entries().find((e) => e.msg === "attempt failed, will retry")).toMatchObject({ ...ids, attempt: 1, status_code: 503, retry_in_ms: 1000 });
  expect(entries().find((e) => e.msg === "delivered")).toMatchObject({ level: "info", ...ids, attempt: 2, status_code: 200 });
  expect(entries().find((e) => e.msg === "delivery failed")).toMatchObject({
    level: "warn",
    event_id: eventId,
    webhook_id: rejecting.id,
    attempt: 1,
    status_code: 400,
    error: expect.stringContaining("HTTP 400"),
  });

  const all = lines.join("\n");
  for (const secret of [source.secret, webhook.secret, rejecting.secret, ADMIN_TOKEN, "crm-key-never-logged"]) {
    expect(all).not.toContain(secret);
  }
});

it("counts and logs each refused ingest by its code, so that a PBX whose secret changed is seen losing events", async () => {
  await t.gw.stop();
  lines = [];
  const limited = { ingest: { perSecond: 1, burst: 1 }, adminAuthFailures: { perSecond: 1, burst: 10 } };
  t.gw = await startGateway({ log: createLogger("debug", (line) => lines.push(line)), rateLimits: limited });
  const source = await createSource(t.gw);
  expect((await ingest(t.gw, { ...source, secret: "an-old-secret" }, callEvent())).status).toBe(401);
  expect((await ingest(t.gw, { id: "src_unknown", secret: "x" }, callEvent())).status).toBe(404);
  const broken = await t.gw.send(`/ingest/${source.id}`, {
    method: "POST",
    headers: { authorization: `Bearer ${source.secret}`, "content-type": "application/json" },
    body: '{"uniqueid": "caller +15551234567",',
  });
  expect(broken.status).toBe(400);
  expect((await ingest(t.gw, source, callEvent())).status).toBe(429);

  const metrics = parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body as string);
  for (const [code, count] of [["unauthorized", 1], ["not_found", 1], ["invalid_json", 1], ["rate_limited", 1]] as const) {
    expect(metrics.value("gateway_ingest_refused_total", { code }), code).toBe(count);
  }
  const refused = entries().filter((e) => e.msg === "ingest refused");
  // A flood of 429s is counted, not logged; the others each give a line, without the event's own text.
  expect(refused).toEqual([
    expect.objectContaining({ level: "warn", source_id: source.id, status: 401, code: "unauthorized" }),
    expect.objectContaining({ level: "warn", source_id: "src_unknown", status: 404, code: "not_found" }),
    expect.objectContaining({ level: "warn", source_id: source.id, status: 400, code: "invalid_json" }),
  ]);
  expect(lines.join("\n")).not.toContain("+15551234567");
});

it("logs a flood of refusals of one kind once a second, saying how many it left out; another source's at once", async () => {
  const wronged = await createSource(t.gw);
  const other = await createSource(t.gw);
  for (let i = 0; i < 30; i++) expect((await ingest(t.gw, { ...wronged, secret: `guess-${i}` }, callEvent())).status).toBe(401);
  for (let i = 0; i < 30; i++) expect((await ingest(t.gw, { id: `src_made_up_${i}`, secret: "x" }, callEvent())).status).toBe(404);
  expect((await ingest(t.gw, { ...other, secret: "an-old-secret" }, callEvent())).status).toBe(401);
  t.gw.clock.advance(1_000);
  expect((await ingest(t.gw, { ...wronged, secret: "guess-again" }, callEvent())).status).toBe(401);

  // Before: a line for each of the 62 requests, as fast as anyone with the URL could send them.
  expect(entries().filter((e) => e.msg === "ingest refused")).toEqual([
    expect.objectContaining({ source_id: wronged.id, code: "unauthorized", unlogged_since_last: 0 }),
    expect.objectContaining({ source_id: "src_made_up_0", code: "not_found", unlogged_since_last: 0 }),
    expect.objectContaining({ source_id: other.id, code: "unauthorized", unlogged_since_last: 0 }),
    expect.objectContaining({ source_id: wronged.id, code: "unauthorized", unlogged_since_last: 29 }),
  ]);
  const metrics = parsePrometheus((await t.gw.send("/metrics", { method: "GET" })).body as string);
  expect(metrics.value("gateway_ingest_refused_total", { code: "unauthorized" })).toBe(32);
  expect(metrics.value("gateway_ingest_refused_total", { code: "not_found" })).toBe(30);
});

it("says on a line of its own that a 410 Gone disabled a rule, with the delivery that got it; once", async () => {
  const source = await createSource(t.gw);
  const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/gone`, retries: 3 });
  t.receiver.replyWith({ status: 503, headers: { "retry-after": "60" } }, { status: 410 });
  await ingest(t.gw, source, callEvent());
  await t.gw.settle();
  const gone = (await ingest(t.gw, source, callEvent())).body.event_id;
  await t.gw.settle();

  const [delivery] = (await t.gw.api("GET", `/api/deliveries?event_id=${gone}`)).body.data;
  const disabled = entries().filter((e) => e.msg === "webhook disabled");
  expect(disabled).toEqual([
    expect.objectContaining({ level: "warn", webhook_id: hook.id, reason: "gone", delivery_id: delivery.id, event_id: gone, status_code: 410 }),
  ]);
  // The delivery waiting for its retry, failed with it, is told apart.
  expect(entries().find((e) => e.msg === "deliveries failed")).toMatchObject({ webhook_id: hook.id, deliveries: 1, error: "webhook disabled (410 Gone)" });

  // Sent again by hand to the rule now off and answered 410 again: the rule was disabled already, no second line.
  t.receiver.replyWith({ status: 410 });
  t.gw.clock.advance(1_000);
  expect((await t.gw.api("POST", `/api/deliveries/${delivery.id}/retry`)).status).toBe(202);
  await t.gw.settle();
  expect(t.receiver.requests).toHaveLength(3);
  expect(entries().filter((e) => e.msg === "webhook disabled")).toHaveLength(1);
  expect((await t.gw.api("GET", `/api/webhooks/${hook.id}`)).body.disabled).toMatchObject({ delivery_id: delivery.id, at: delivery.updated_at });
});

it("never logs a key a rule gives in its URL's query, not even where an attempt's error quotes a redirect echoing the request", async () => {
  const source = await createSource(t.gw);
  const key = "crm-url-key-never-logged";
  await createWebhook(t.gw, { url: `${t.receiver.url}/notes?api_key=${key}&source=pbx`, retries: 0 });
  t.receiver.handler = (request) => ({ status: 302, headers: { location: `https://login.crm.example${request.target}` } });
  expect((await ingest(t.gw, source, callEvent({ uniqueid: "log.2" }))).status).toBe(202);
  await t.gw.settle();
  expect(t.receiver.requests[0].query.get("api_key")).toBe(key);
  expect(entries().find((e) => e.msg === "delivery failed")).toMatchObject({
    status_code: 302,
    error: expect.stringContaining("redirect to https://login.crm.example/notes?api_key=****&source=pbx not followed"),
  });
  expect(lines.join("\n")).not.toContain(key);
});

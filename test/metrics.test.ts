import { describe, expect, it } from "vitest";
import { DEFAULT_INGEST_MAX_PENDING } from "../src/api/admission.js";
import { DEFAULT_INGEST_MAX_BODY_BYTES } from "../src/api/body-bytes.js";
import { callEvent } from "./support/events.js";
import { createWebhook, ingest, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { parsePrometheus } from "./support/prometheus.js";

const t = gatewayPerTest();

async function scrape() {
  const answer = await t.gw.send("/metrics", { method: "GET" });
  expect(answer.status).toBe(200);
  expect(answer.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(answer.body as string);
}

/** Bucket counts of an unlabelled histogram, by upper bound. */
function buckets(metrics: ReturnType<typeof parsePrometheus>, name: string): Record<string, number> {
  return Object.fromEntries(metrics.samples.filter((s) => s.name === `${name}_bucket`).map((s) => [s.labels.le, s.value]));
}

describe("GET /metrics", () => {
  it("starts at zero, in valid exposition format, without a token when none is configured", async () => {
    const metrics = await scrape();
    expect(metrics.types.get("gateway_events_ingested_total")).toBe("counter");
    expect(metrics.types.get("gateway_ingest_duration_seconds")).toBe("histogram");
    expect(metrics.types.get("gateway_queue_depth")).toBe("gauge");
    expect(metrics.value("gateway_deliveries_created_total")).toBe(0);
    expect(metrics.value("gateway_deliveries_delivered_total")).toBe(0);
    // Each failure reason reads 0 before the first failure, so that increase() sees that one too.
    for (const reason of ["render", "not_retryable", "retries_exhausted", "gone", "unsendable", "dead_letter"]) {
      expect(metrics.value("gateway_deliveries_failed_total", { reason }), reason).toBe(0);
    }
    for (const code of ["unauthorized", "source_disabled", "rate_limited", "invalid_json", "invalid_request", "overloaded"]) {
      expect(metrics.value("gateway_ingest_refused_total", { code }), code).toBe(0);
    }
    expect(metrics.value("gateway_event_to_delivered_seconds_count")).toBe(0);
    expect(metrics.value("gateway_queue_depth", { status: "pending" })).toBe(0);
    expect(metrics.value("gateway_queue_due")).toBe(0);
    // The database answered this scrape's read (see database-stall.test.ts for one that does not).
    expect(metrics.types.get("gateway_database_up")).toBe("gauge");
    expect(metrics.value("gateway_database_up")).toBe(1);
  });

  it("shows on Node what ingest holds of its bounds next to each bound, back to 0 once answered; on Workers, where there are none, nothing", async () => {
    expect((await ingest(t.gw, t.source, callEvent())).status).toBe(202);
    const metrics = await scrape();
    const ingestGauges = metrics.samples.filter((s) => s.name.startsWith("gateway_ingest_") && metrics.types.get(s.name) === "gauge");
    // Held now (see admission.test.ts and body-bytes.test.ts for requests and bodies held while scraped), and the bound.
    const node = {
      gateway_ingest_pending: 0,
      gateway_ingest_max_pending: DEFAULT_INGEST_MAX_PENDING,
      gateway_ingest_body_bytes: 0,
      gateway_ingest_max_body_bytes: DEFAULT_INGEST_MAX_BODY_BYTES,
    };
    expect(Object.fromEntries(ingestGauges.map((s) => [s.name, s.value]))).toEqual(t.gw.runtime === "node" ? node : {});
    // Unlabelled (a sum over a label would add a bound to a usage), each with a HELP naming its bound's setting.
    for (const { name, labels } of ingestGauges) {
      expect(labels, name).toEqual({});
      expect(metrics.help.get(name), name).toContain(name.includes("body") ? "INGEST_MAX_BODY_BYTES" : "INGEST_MAX_PENDING");
    }
  });

  it("counts ingest, matching, attempts by outcome, delivery latency and the queue depth", async () => {
    const served = new Map<string, number>();
    t.receiver.handler = (request) => {
      const n = (served.get(request.path) ?? 0) + 1;
      served.set(request.path, n);
      if (request.path === "/flaky") return { status: n === 1 ? 503 : 200 };
      if (request.path === "/reject") return { status: 422 };
      return { status: 204 };
    };
    await createWebhook(t.gw, { url: `${t.receiver.url}/flaky`, params: { id: "uniqueid" } });
    await createWebhook(t.gw, { url: `${t.receiver.url}/reject`, params: { id: "uniqueid" }, retries: 0 });
    await createWebhook(t.gw, { url: `${t.receiver.url}/later`, params: { id: "uniqueid" }, delay_seconds: 600 });

    expect((await ingest(t.gw, t.source, callEvent())).body.deliveries).toBe(3);
    expect((await ingest(t.gw, t.source, callEvent({ type: "pbx.custom" }))).body.deliveries).toBe(0);
    await t.gw.settle();

    const after = await scrape();
    expect(after.value("gateway_events_ingested_total", { source_kind: "canonical", type: "call.end" })).toBe(1);
    expect(after.value("gateway_events_ingested_total", { source_kind: "canonical", type: "unmapped" })).toBe(1);
    expect(after.value("gateway_ingest_duration_seconds_count")).toBe(2);
    expect(after.value("gateway_deliveries_created_total")).toBe(3);
    expect(after.value("gateway_deliveries_delivered_total")).toBe(1);
    expect(after.value("gateway_deliveries_failed_total", { reason: "not_retryable" })).toBe(1);
    expect(after.value("gateway_delivery_attempts_total", { outcome: "retry", status_class: "5xx" })).toBe(1);
    expect(after.value("gateway_delivery_attempts_total", { outcome: "delivered", status_class: "2xx" })).toBe(1);
    expect(after.value("gateway_delivery_attempts_total", { outcome: "failed", status_class: "4xx" })).toBe(1);
    expect(after.value("gateway_attempt_duration_seconds_count")).toBe(3);
    // The flaky receiver took its 200 after one backoff of 1 s on the manual clock.
    expect(after.value("gateway_event_to_delivered_seconds_sum")).toBe(1);
    expect(buckets(after, "gateway_event_to_delivered_seconds")).toMatchObject({ "0.5": 0, "1": 1, "+Inf": 1 });
    expect(after.value("gateway_queue_depth", { status: "pending" })).toBe(1);
    expect(after.value("gateway_queue_depth", { status: "delivering" })).toBe(0);
    expect(after.value("gateway_queue_due")).toBe(0);

    // The queue depth is read at each scrape: the delayed delivery is due once its time has come, and gone once sent.
    t.gw.clock.advance(600_000);
    expect((await scrape()).value("gateway_queue_due")).toBe(1);
    await t.gw.sweep();
    const done = await scrape();
    expect(done.value("gateway_queue_depth", { status: "pending" })).toBe(0);
    expect(done.value("gateway_deliveries_delivered_total")).toBe(2);
    expect(done.value("gateway_event_to_delivered_seconds_count")).toBe(2);
    expect(buckets(done, "gateway_event_to_delivered_seconds")).toMatchObject({ "300": 1, "1800": 2 });
    expect(done.value("gateway_delivery_attempts_total", { outcome: "delivered", status_class: "2xx" })).toBe(2);
  });

  it("counts the deliveries a rule's disabling, deletion or 410 Gone fails, as many as the delivery log shows failed", async () => {
    t.receiver.handler = (request) => (request.path === "/gone" ? { status: 410 } : { status: 204 });
    const paused = await createWebhook(t.gw, { url: `${t.receiver.url}/paused`, delay_seconds: 600 });
    const deleted = await createWebhook(t.gw, { url: `${t.receiver.url}/deleted`, delay_seconds: 600 });
    const gone = await createWebhook(t.gw, { url: `${t.receiver.url}/gone`, delay_seconds: 600 });
    for (let i = 0; i < 2; i++) await ingest(t.gw, t.source, callEvent());

    expect((await t.gw.api("PATCH", `/api/webhooks/${paused.id}`, { enabled: false })).status).toBe(200);
    expect((await t.gw.api("DELETE", `/api/webhooks/${deleted.id}`)).status).toBe(204);
    // One of the 410 rule's deliveries is sent by hand and answered 410: the other, still waiting, fails with it.
    const [sentNow] = (await t.gw.api("GET", `/api/deliveries?webhook_id=${gone.id}`)).body.data;
    expect((await t.gw.api("POST", `/api/deliveries/${sentNow.id}/retry`)).status).toBe(202);
    await t.gw.settle();

    const failed = (await t.gw.api("GET", "/api/deliveries?status=failed")).body.data;
    expect(failed).toHaveLength(6);
    expect(failed.filter((d: { last_error: string }) => d.last_error === "410 Gone: webhook disabled")).toHaveLength(1);
    const metrics = await scrape();
    expect(metrics.value("gateway_deliveries_failed_total", { reason: "gone" })).toBe(1);
    expect(metrics.value("gateway_deliveries_failed_total", { reason: "unsendable" })).toBe(5);
    expect(metrics.value("gateway_queue_depth", { status: "pending" })).toBe(0);
  });

  it.each([
    ["deleted", 422, "DELETE", undefined, { status: "failed", last_error: "webhook deleted" }, { unsendable: 1 }],
    ["disabled", 503, "PATCH", { enabled: false }, { status: "failed", last_error: "webhook disabled" }, { unsendable: 1 }],
    ["deleted", 200, "DELETE", undefined, { status: "delivered" }, { delivered: 1 }],
  ] as const)(
    "counts a delivery whose rule is %s during its attempt (answered %i) once, as the delivery log ends it",
    async (_, status, method, body, ended, counted) => {
      const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/slow`, retries: 0 });
      let answer = () => {};
      t.receiver.replyWith({ status, until: new Promise<void>((resolve) => (answer = resolve)) });
      const { body: accepted } = await ingest(t.gw, t.source, callEvent());
      const settled = t.gw.settle();
      await t.receiver.waitFor(1);
      expect((await t.gw.api(method, `/api/webhooks/${hook.id}`, body)).status).toBeLessThan(300);
      answer();
      await settled;

      const [delivery] = (await t.gw.api("GET", `/api/events/${accepted.event_id}`)).body.deliveries;
      expect(delivery).toMatchObject(ended);
      const metrics = await scrape();
      const reasons = ["render", "not_retryable", "retries_exhausted", "gone", "unsendable", "dead_letter"];
      const failed = Object.fromEntries(reasons.map((reason) => [reason, metrics.value("gateway_deliveries_failed_total", { reason })]));
      expect({ ...failed, delivered: metrics.value("gateway_deliveries_delivered_total") }).toEqual({
        ...Object.fromEntries([...reasons, "delivered"].map((name) => [name, 0])),
        ...counted,
      });
      // The attempt was sent all the same, and is counted as one.
      const outcome = status === 200 ? "delivered" : "failed";
      expect(metrics.value("gateway_delivery_attempts_total", { outcome, status_class: `${String(status)[0]}xx` })).toBe(1);
    },
  );

  it("asks for METRICS_TOKEN when one is set, and only that token", async () => {
    const token = "metrics-token-0123456789";
    const guarded = await startGateway({ metricsToken: token });
    try {
      const bare = await guarded.send("/metrics", { method: "GET" });
      expect(bare.status).toBe(401);
      expect(bare.body.error.code).toBe("unauthorized");
      expect(bare.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
      const admin = await guarded.send("/metrics", { method: "GET", headers: { authorization: "Bearer test-admin-token-0123456789" } });
      expect(admin.status).toBe(401);
      const ok = await guarded.send("/metrics", { method: "GET", headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(parsePrometheus(ok.body).value("gateway_deliveries_created_total")).toBe(0);
    } finally {
      await guarded.stop();
    }
  });
});

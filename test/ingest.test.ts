import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createWebhook, ingest } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";

const t = gatewayPerTest();

const eventCount = async () => (await t.gw.api("GET", "/api/events")).body.data.length;

describe("POST /ingest/:sourceId", () => {
  it("acknowledges a canonical event only once it and its deliveries are stored", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/hook` });
    const answer = await ingest(t.gw, t.source, callEvent());
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ event_id: expect.stringMatching(/^evt_/), deliveries: 1 });

    const stored = await t.gw.api("GET", `/api/events/${answer.body.event_id}`);
    expect(stored.body.type).toBe("call.end");
    expect(stored.body.deliveries).toHaveLength(1);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
  });

  it("accepts an x-signature HMAC of the raw body instead of the bearer secret", async () => {
    const body = JSON.stringify(callEvent());
    const signature = createHmac("sha256", t.source.secret).update(body).digest("hex");
    const answer = await t.gw.send(`/ingest/${t.source.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": signature },
      body,
    });
    expect(answer.status).toBe(202);
  });

  it("refuses a wrong secret or signature with 401 and stores nothing", async () => {
    const body = JSON.stringify(callEvent());
    const attempts: Record<string, string>[] = [
      { authorization: "Bearer wrong-secret" },
      { "x-signature": createHmac("sha256", "other").update(body).digest("hex") },
      {},
    ];
    for (const headers of attempts) {
      const answer = await t.gw.send(`/ingest/${t.source.id}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe("unauthorized");
      // It says how this kind of source takes its secret.
      expect(answer.body.error.message).toBe(
        "The request does not prove it knows this source's secret: send Authorization: Bearer <secret>, or x-signature: the hex HMAC-SHA256 of the body keyed by the secret",
      );
    }
    expect(await eventCount()).toBe(0);
  });

  it("answers bad input with a clear JSON error and stores nothing", async () => {
    const post = (body: string, contentType = "application/json") =>
      t.gw.send(`/ingest/${t.source.id}`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.source.secret}`, "content-type": contentType },
        body,
      });

    const malformed = await post('{"type": "call.end",');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("invalid_json");

    const wrongType = await post("type=call.end", "application/x-www-form-urlencoded");
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.message).toContain("application/json");

    const badField = await post(JSON.stringify(callEvent({ duration: "long", direction: "sideways" })));
    expect(badField.status).toBe(400);
    expect(badField.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["direction", "duration"]);

    const missing = await post(JSON.stringify({ type: "call.end" }));
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain("uniqueid");

    const oversize = await post(JSON.stringify(callEvent({ caller_name: "x".repeat(3 * 1024 * 1024) })));
    expect(oversize.status).toBe(413);
    expect(oversize.body.error.code).toBe("payload_too_large");

    // Streamed without a Content-Length, the body is counted as it arrives.
    const chunk = new TextEncoder().encode(`{"caller_name": "${"x".repeat(64 * 1024)}`);
    let sentChunks = 0;
    const streamed = new ReadableStream<Uint8Array>({
      pull(controller) {
        if ((sentChunks += 1) > 64) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const unsized = await t.gw.send(`/ingest/${t.source.id}`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.source.secret}`, "content-type": "application/json" },
      body: streamed,
      duplex: "half",
    } as RequestInit);
    expect(unsized.status).toBe(413);
    expect(unsized.body.error.code).toBe("payload_too_large");

    const badInBatch = await post(JSON.stringify([callEvent(), callEvent({ bill_duration: -1 })]));
    expect(badInBatch.status).toBe(400);
    expect(badInBatch.body.error.details[0].field).toBe("[1].bill_duration");

    expect(await eventCount()).toBe(0);
  });

  it("answers an unknown source with 404", async () => {
    const answer = await ingest(t.gw, { id: "src_nope", secret: t.source.secret }, callEvent());
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("not_found");
  });

  it("accepts an array of events and answers each id", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/hook` });
    const answer = await ingest(t.gw, t.source, [callEvent(), callEvent({ type: "call.start" }), callEvent()]);
    expect(answer.status).toBe(202);
    expect(answer.body.events).toHaveLength(3);
    expect(answer.body.events.map((e: { deliveries: number }) => e.deliveries)).toEqual([1, 0, 1]);
    expect(await eventCount()).toBe(3);
  });

  it("stores a batch of 1,000 events with all their deliveries at once (D1 binds at most 100 parameters per statement)", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/a`, delay_seconds: 3_600 });
    await createWebhook(t.gw, { url: `${t.receiver.url}/b`, delay_seconds: 3_600 });
    const batch = Array.from({ length: 1_000 }, () => callEvent());
    const answer = await ingest(t.gw, t.source, batch);
    expect(answer.status).toBe(202);
    expect(answer.body.events).toHaveLength(1_000);
    expect(answer.body.events.filter((e: { deliveries: number }) => e.deliveries === 2)).toHaveLength(1_000);
    const last = await t.gw.api("GET", `/api/events/${answer.body.events[999].event_id}`);
    expect(last.body.deliveries).toHaveLength(2);

    // The PBX resends the whole batch: every event is recognised, nothing new is stored.
    const again = await ingest(t.gw, t.source, batch);
    expect(again.status).toBe(202);
    expect(again.body.events.map((e: { event_id: string }) => e.event_id)).toEqual(answer.body.events.map((e: { event_id: string }) => e.event_id));
    expect(again.body.events.every((e: { duplicate?: boolean }) => e.duplicate === true)).toBe(true);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(0);
  });

  it("stores the same event once and answers a PBX retry with the first id", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/hook` });
    const withId = callEvent({ id: "pbx-event-1" });
    const first = await ingest(t.gw, t.source, withId);
    const again = await ingest(t.gw, t.source, { ...withId, caller_name: "changed on retry" });
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ event_id: first.body.event_id, deliveries: 1, duplicate: true });

    // Without an id: type + uniqueid + occurred_at identify it.
    const plain = callEvent({ occurred_at: "2026-11-20T14:08:40Z" });
    const a = await ingest(t.gw, t.source, plain);
    const b = await ingest(t.gw, t.source, plain);
    expect(b.body.event_id).toBe(a.body.event_id);
    // The same call's next event is a new event.
    const c = await ingest(t.gw, t.source, { ...plain, type: "call.report" });
    expect(c.body.event_id).not.toBe(a.body.event_id);

    // Concurrent retries race into the same commit: still one event.
    const racing = callEvent({ id: "pbx-event-2" });
    const answers = await Promise.all([1, 2, 3, 4].map(() => ingest(t.gw, t.source, racing)));
    expect(new Set(answers.map((r) => r.body.event_id)).size).toBe(1);

    expect(await eventCount()).toBe(4);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(3);
  });

  it("stores once a retry of an event that carries no time, received later, and keeps a different one apart", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/hook`, events: ["call.update"] });
    const timeless = { type: "call.update", uniqueid: "3000.1", status: "ringing", tags: ["first"] };
    const first = await ingest(t.gw, t.source, timeless);
    t.gw.clock.advance(5_000);
    const retry = await ingest(t.gw, t.source, timeless);
    expect(retry.body).toEqual({ event_id: first.body.event_id, deliveries: 1, duplicate: true });
    // It happened when it was first received.
    expect((await t.gw.api("GET", `/api/events/${first.body.event_id}`)).body.occurred_at).toBe("2026-11-20T12:00:00.000Z");
    const other = await ingest(t.gw, t.source, { ...timeless, tags: ["second"] });
    expect(other.body.duplicate).toBeUndefined();
    expect(await eventCount()).toBe(2);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(2);
  });

  it("accepts overlapping batches sent concurrently: each event stored once, every request answered 202 with its first id", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/hook`, delay_seconds: 3_600 });
    // Batches of 1 to 6 events out of 130, so that requests keep committing parts of each other's batches.
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    const batches = Array.from({ length: 360 }, () => Array.from({ length: 1 + (next() % 6) }, () => callEvent({ id: `shared-${next() % 130}` })));
    // 16 requests outstanding at a time: all 360 at once, and now and then 32, made workerd lose its connection to
    // D1 on a loaded machine.
    const answers: Awaited<ReturnType<typeof ingest>>[] = [];
    let unsent = 0;
    const sender = async () => {
      for (let i = unsent++; i < batches.length; i = unsent++) answers[i] = await ingest(t.gw, t.source, batches[i]);
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 202));
    const firstIds = new Map<string, string>();
    batches.forEach((batch, i) =>
      batch.forEach((event, j) => {
        const eventId = answers[i].body.events[j].event_id;
        expect(firstIds.get(event.id as string) ?? eventId).toBe(eventId);
        firstIds.set(event.id as string, eventId);
      }),
    );
    expect((await t.gw.api("GET", "/api/events?limit=200")).body.data).toHaveLength(firstIds.size);
  });

  it("stores the new events of a batch that resends one already stored, and answers that one with its first id", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/hook` });
    const stored = callEvent({ id: "pbx-event-3" });
    const first = await ingest(t.gw, t.source, stored);
    const mixed = await ingest(t.gw, t.source, [callEvent(), stored, callEvent()]);
    expect(mixed.status).toBe(202);
    expect(mixed.body.events[1]).toEqual({ event_id: first.body.event_id, deliveries: 1, duplicate: true });
    expect(mixed.body.events.filter((e: { duplicate?: boolean }) => !e.duplicate)).toHaveLength(2);
    expect(await eventCount()).toBe(3);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(3);
  });

  it("refuses with 413 an event larger than one stored event may be, and stores nothing of its request", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/hook` });
    const huge = callEvent({ notes: "x".repeat(600 * 1024) });
    const alone = await ingest(t.gw, t.source, huge);
    expect(alone.status).toBe(413);
    expect(alone.body.error).toMatchObject({ code: "event_too_large", message: expect.stringContaining("The event is larger than 524288 bytes") });
    const inBatch = await ingest(t.gw, t.source, [callEvent(), huge]);
    expect(inBatch.status).toBe(413);
    expect(inBatch.body.error.message).toContain("Event 1 of the request");
    expect(await eventCount()).toBe(0);
    // A batch as large, of events of ordinary size, is taken.
    const many = Array.from({ length: 600 }, () => callEvent({ notes: "y".repeat(1_000) }));
    expect((await ingest(t.gw, t.source, many)).status).toBe(202);
  });

  it("stores an unknown event type as unmapped, with no delivery", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/hook`, events: ["call.end", "call.start"] });
    const answer = await ingest(t.gw, t.source, callEvent({ type: "call.teleported" }));
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries).toBe(0);
    const stored = await t.gw.api("GET", `/api/events/${answer.body.event_id}`);
    expect(stored.body.type).toBe("unmapped");
    expect(stored.body.raw.type).toBe("call.teleported");
  });

  it("refuses events on a disabled source", async () => {
    await t.gw.api("PATCH", `/api/sources/${t.source.id}`, { enabled: false });
    const answer = await ingest(t.gw, t.source, callEvent());
    expect(answer.status).toBe(403);
    expect(await eventCount()).toBe(0);
  });
});

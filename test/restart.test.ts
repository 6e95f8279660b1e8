import { join } from "node:path";
import { Readable } from "node:stream";
import { createClient } from "@libsql/client";
import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { ManualClock, PausingClock } from "./support/clock.js";
import { BACK_BEFORE_DISABLED, expectReasonsAfterUpgrade, MIGRATIONS_SINCE_DISABLED, rulesTurnedOff } from "./support/earlier-disables.js";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { ingestAndSettle } from "./support/ingest-and-settle.js";

// The Node gateway stopping and starting again over the same database file. (On Workers there is no
// process to restart: test/workerd/queue.test.ts covers a consumer lost mid-delivery and lost messages.)

const t = gatewayPerTest();

const deliverOne = (event?: Record<string, unknown>) => ingestAndSettle(t.gw, t.source, event);

describe("restart", () => {
  it("sends after a restart what was pending when the gateway stopped", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/after-restart`, delay_seconds: 30 });
    const eventId = await deliverOne();
    const { dir, clock } = t.gw;
    await t.gw.stop(false);

    clock.advance(30_000);
    t.gw = await startGateway({ dir, clock });
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    const [delivery] = await deliveriesOf(t.gw, eventId);
    expect(delivery.status).toBe("delivered");
  });

  it("sends again after a restart a delivery that was in flight when the gateway stopped, without using up a retry", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/in-flight`, timeout_ms: 30_000, retries: 0 });
    t.receiver.replyWith({ delayMs: 20_000 });
    const answer = await ingest(t.gw, t.source, callEvent());
    await t.receiver.waitFor(1);
    const { dir, clock } = t.gw;
    await t.gw.stop(false);

    t.gw = await startGateway({ dir, clock });
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(2);
    expect(t.receiver.requests[1].headers["webhook-id"]).toBe(t.receiver.requests[0].headers["webhook-id"]);
    const [delivery] = await deliveriesOf(t.gw, answer.body.event_id);
    expect(delivery.status).toBe("delivered");
    expect(delivery.attempts.map((a: { status_code: number | null; error: string | null }) => [a.status_code, a.error])).toEqual([
      [null, "interrupted: the gateway stopped during the attempt"],
      [200, null],
    ]);
  });

  it("keeps, across a restart, the wait for a retry it was holding in memory", async () => {
    const pausing = new PausingClock();
    const lines: string[] = [];
    await t.gw.stop();
    t.gw = await startGateway({ clock: pausing, log: createLogger("info", (line) => lines.push(line)) });
    t.source = await createSource(t.gw);
    await createWebhook(t.gw, { url: `${t.receiver.url}/busy`, retries: 3 });
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "8" } });
    const answer = await ingest(t.gw, t.source, callEvent());
    await pausing.asleep();
    const { dir } = t.gw;
    await t.gw.stop(false);
    expect(lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === "gateway stopped")).toMatchObject({ deliveries_handed_back: 1 });

    const clock = new ManualClock(pausing.now());
    t.gw = await startGateway({ dir, clock });
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(1);
    clock.advance(8_000);
    await t.gw.sweep();
    expect(t.receiver.requests).toHaveLength(2);
    const [delivery] = await deliveriesOf(t.gw, answer.body.event_id);
    const [first, second] = delivery.attempts.map((a: { started_at: string }) => Date.parse(a.started_at));
    expect(second - first).toBe(8_000);
  });
});

describe("stopping", () => {
  it("ends while a PBX keeps posting on one keep-alive connection, and delivers every event it acknowledged", async () => {
    await createWebhook(t.gw, { url: `${t.receiver.url}/calls`, method: "POST_JSON", params: { uniqueid: "uniqueid" } });
    const pbx = new Agent({ connections: 1 });
    const acknowledged: string[] = [];
    const post = async (body: (text: string) => string | Readable = (text) => text) => {
      const event = callEvent();
      const headers = { authorization: `Bearer ${t.source.secret}`, "content-type": "application/json" };
      const answer = await request(`${t.gw.url}/ingest/${t.source.id}`, { dispatcher: pbx, method: "POST", headers, body: body(JSON.stringify(event)) });
      await answer.body.text();
      if (answer.statusCode === 202) acknowledged.push(event.uniqueid);
    };
    // One event is being received when the gateway stops (an idle connection it would close at once).
    let sendRest!: () => void;
    const rest = new Promise<void>((resolve) => (sendRest = resolve));
    const halfSent = post((text) =>
      Readable.from(
        (async function* () {
          yield text.slice(0, 10);
          await rest;
          yield text.slice(10);
        })(),
      ),
    );
    // Once another connection has been answered, the server has read what was written before on this one.
    await t.gw.send("/health", {});
    const { dir, clock } = t.gw;
    let stopped = false;
    const stopping = t.gw.stop(false).then(() => (stopped = true));
    sendRest();
    await halfSent;
    // Before: its answer kept the connection open and each next request on it was served, so the stop never ended.
    while (!stopped) await post().catch(() => undefined);
    await stopping;
    await pbx.close();

    t.gw = await startGateway({ dir, clock });
    await t.gw.sweep();
    const delivered = t.receiver.requests.map((received) => JSON.parse(received.body).uniqueid);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(new Set(delivered)).toEqual(new Set(acknowledged));
  });
});

describe("a rule saved by an earlier version", () => {
  it("turned off before the gateway kept why: after the upgrade, a 410 in its delivery log says so; otherwise no reason", async () => {
    const rules = await rulesTurnedOff(t.gw, t.receiver);
    const { dir, clock } = t.gw;
    await t.gw.stop(false);
    // The database as the version before left it: without the column, and without the migrations from the one that adds it.
    const db = createClient({ url: `file:${join(dir, "gateway.db")}` });
    for (const statement of BACK_BEFORE_DISABLED) await db.execute(statement);
    const since = `SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT ${MIGRATIONS_SINCE_DISABLED}`;
    await db.execute(`DELETE FROM __drizzle_migrations WHERE created_at IN (${since})`);
    db.close();
    t.gw = await startGateway({ dir, clock });
    await expectReasonsAfterUpgrade(t.gw, rules);
  });

  it("with a header named like the gateway's webhook-id, previews and sends one webhook-id, the gateway's", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/old`, headers: { "X-Old": "1" } });
    const { dir, clock } = t.gw;
    await t.gw.stop(false);
    // Saving such a header is refused now; a rule saved before has it in its row.
    const db = createClient({ url: `file:${join(dir, "gateway.db")}` });
    await db.execute({ sql: "UPDATE webhooks SET headers = ? WHERE id = ?", args: [JSON.stringify({ "Webhook-Id": "mine" }), hook.id] });
    db.close();
    t.gw = await startGateway({ dir, clock });

    const preview = await t.gw.api("POST", `/api/webhooks/${hook.id}/preview`, {});
    const ids = Object.entries(preview.body.headers).filter(([name]) => name.toLowerCase() === "webhook-id");
    expect(ids).toEqual([["webhook-id", "dlv_preview"]]);
    await deliverOne();
    expect(t.receiver.requests[0].headers["webhook-id"]).toMatch(/^dlv_\w+$/);
    // Edits that leave its headers alone are taken; one that names them must leave that header out.
    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { name: "Renamed" })).status).toBe(200);
    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { headers: { "Webhook-Id": "mine" } })).status).toBe(400);
  });

  it("naming a source deleted since, can still be disabled and renamed; naming sources anew checks them", async () => {
    const office = await createSource(t.gw, "Office");
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/old`, source_ids: [office.id] });
    const { dir, clock } = t.gw;
    await t.gw.stop(false);
    // A source is not deleted while a rule names it now; before, it was.
    const db = createClient({ url: `file:${join(dir, "gateway.db")}` });
    await db.execute({ sql: "DELETE FROM sources WHERE id = ?", args: [office.id] });
    db.close();
    t.gw = await startGateway({ dir, clock });

    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { enabled: false, name: "Paused" })).status).toBe(200);
    const renamed = await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { source_ids: [office.id] });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.details).toEqual([{ field: "source_ids.0", message: `no source ${office.id}` }]);
  });

  it("with an expression or template a later check refuses, can still be disabled and renamed; editing that field checks it", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/old`, params: { phone: "src" } });
    const { dir, clock } = t.gw;
    await t.gw.stop(false);
    // A regex that can backtrack without bound, and a partial since removed: refused when saved now, not before.
    const db = createClient({ url: `file:${join(dir, "gateway.db")}` });
    await db.execute({
      sql: "UPDATE webhooks SET filter = ?, params = NULL, body_template = ? WHERE id = ?",
      args: ["$contains(src, /(a+)+$/)", "{{> removed_partial}}", hook.id],
    });
    db.close();
    t.gw = await startGateway({ dir, clock });

    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { enabled: false })).status).toBe(200);
    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { name: "Paused" })).status).toBe(200);
    const kept = await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { filter: "$contains(src, /(a+)+$/)" });
    expect(kept.status).toBe(422);
    expect(kept.body.error.details.map((d: { field: string }) => d.field)).toEqual(["filter"]);
    expect((await t.gw.api("PATCH", `/api/webhooks/${hook.id}`, { filter: null, body_template: "{{src}}" })).status).toBe(200);
  });
});

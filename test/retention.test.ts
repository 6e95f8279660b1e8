import { afterEach, describe, expect, it } from "vitest";
import { configFromEnv } from "../src/config.js";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway, type TestGateway } from "./support/gateway.js";
import { EXPIRY_INTERVAL_MS } from "../src/store/retention.js";
import { SteppingClock } from "./support/clock.js";
import { Receiver } from "./support/receiver.js";

// RETENTION_DAYS: what is older goes (events, their deliveries and attempts, the memory of calls), by the
// Node timer or the Workers cron trigger; what is newer, or not finished being delivered, stays.

const DAY_MS = 86_400_000;

let gw: TestGateway;
let receiver: Receiver;
// One clock for the file, only ever moved on: ids carry the time and never go back within a process, so a
// test starting the clock over would create ids from its own future.
const clock = new SteppingClock();

async function start(retentionDays?: number, onRamDisk = false) {
  gw = await startGateway({ clock, retentionDays, onRamDisk });
  receiver = await new Receiver().start();
  return createSource(gw);
}

const status = async (path: string) => (await gw.api("GET", path)).status;
const count = async (table: string) => Number((await gw.sql(`select count(*) as n from ${table}`))[0].n);
const eventIds = async () => (await gw.sql("select id from events order by id")).map((row) => row.id);
const idsOf = (answer: { body: { events: Array<{ event_id: string }> } }) => answer.body.events.map((e) => e.event_id);
const rememberCall = (uniqueid: string) =>
  gw.sql("insert into calls (source_id, uniqueid, state, updated_at) values ('src_pbx', ?, '{}', ?)", [uniqueid, new Date(gw.clock.now()).toISOString()]);

describe("retention", () => {
  afterEach(async () => {
    await gw.stop();
    await receiver.stop();
  });

  it("deletes events past the retention period with their deliveries and attempts, and keeps the rest", async () => {
    const source = await start(1);
    await createWebhook(gw, { url: `${receiver.url}/crm` });
    await createWebhook(gw, { url: `${receiver.url}/later`, events: ["call.start"], delay_seconds: 7 * 86_400 });

    const old = (await ingest(gw, source, callEvent())).body.event_id;
    await gw.settle();
    const [oldDelivery] = await deliveriesOf(gw, old);
    expect(oldDelivery.status).toBe("delivered");
    // Not delivered yet (its rule waits a week): kept however old it gets.
    const waiting = (await ingest(gw, source, callEvent({ type: "call.start" }))).body.event_id;
    const unmatched = (await ingest(gw, source, callEvent({ type: "call.hold" }))).body.event_id;
    await rememberCall("old-call");

    gw.clock.advance(DAY_MS - 1000);
    const recent = (await ingest(gw, source, callEvent())).body.event_id;
    await gw.settle();
    await rememberCall("recent-call");
    gw.clock.advance(1000 + 1);
    await gw.expire();

    expect(await status(`/api/events/${old}`)).toBe(404);
    expect(await status(`/api/deliveries/${oldDelivery.id}`)).toBe(404);
    expect(await gw.sql("select id from attempts where delivery_id = ?", [oldDelivery.id])).toEqual([]);
    expect(await status(`/api/events/${unmatched}`)).toBe(404);
    expect(await status(`/api/events/${waiting}`)).toBe(200);
    expect(await status(`/api/events/${recent}`)).toBe(200);
    expect((await deliveriesOf(gw, recent))[0].attempts).toHaveLength(1);
    expect(await gw.sql("select uniqueid from calls")).toEqual([{ uniqueid: "recent-call" }]);
    expect((await gw.api("GET", "/metrics")).body).toContain("gateway_events_expired_total 2");
  });

  it("deletes a backlog of 12,000 events in one pass (more than the 10,000 a pass once could), passing over those still to be delivered", async () => {
    const source = await start(1, true);
    await createWebhook(gw, { url: `${receiver.url}/later`, events: ["call.start"], delay_seconds: 7 * 86_400 });
    // The oldest of all wait a week for their delivery: every transaction of the pass finds them first.
    const waiting = idsOf(await ingest(gw, source, Array.from({ length: 10 }, () => callEvent({ type: "call.start" }))));
    for (let i = 0; i < 12; i++) expect((await ingest(gw, source, Array.from({ length: 1_000 }, () => callEvent()))).status).toBe(202);
    expect(await count("events")).toBe(12_010);

    gw.clock.advance(DAY_MS + 1);
    await gw.expire();
    expect(await eventIds()).toEqual(waiting);
    expect(await count("deliveries")).toBe(10);
    expect((await gw.api("GET", "/metrics")).body).toContain("gateway_events_expired_total 12000");
    // Twice as many made workerd's D1 lose its connection ("Network connection lost") now and then on a loaded
    // machine. 12 batches of 1,000 and a pass over them: about 1 s in workerd alone, several under load.
  }, 60_000);

  it("ends a pass when its time budget runs out, and the next pass goes on with the oldest left", async () => {
    const source = await start(1);
    const ids: string[] = [];
    for (const length of [100, 100, 50]) ids.push(...idsOf(await ingest(gw, source, Array.from({ length }, () => callEvent()))));
    gw.clock.advance(DAY_MS + 1);

    // Each reading of the clock now takes a whole minute, more than a pass may: it has time for one transaction (100 events).
    clock.step = EXPIRY_INTERVAL_MS;
    try {
      await gw.expire();
      expect(await eventIds()).toEqual(ids.slice(100));
      await gw.expire();
      expect(await eventIds()).toEqual(ids.slice(200));
    } finally {
      clock.step = 0;
    }
    await gw.expire();
    expect(await count("events")).toBe(0);
  });

  it("keeps everything with RETENTION_DAYS=0", async () => {
    const source = await start(0);
    await createWebhook(gw, { url: `${receiver.url}/crm` });
    const event = (await ingest(gw, source, callEvent())).body.event_id;
    await gw.settle();
    await rememberCall("a-call");

    gw.clock.advance(3650 * DAY_MS);
    await gw.expire();
    expect(await status(`/api/events/${event}`)).toBe(200);
    expect(await count("deliveries")).toBe(1);
    expect(await count("attempts")).toBe(1);
    expect(await count("calls")).toBe(1);
  });

  it("keeps everything with a retention period reaching back before 1970 (RETENTION_DAYS=36500)", async () => {
    // A century ago is a negative time, which once made an id past every real one: every event went at once.
    const source = await start(36_500);
    await createWebhook(gw, { url: `${receiver.url}/crm` });
    const event = (await ingest(gw, source, callEvent())).body.event_id;
    await gw.settle();

    gw.clock.advance(DAY_MS);
    await gw.expire();
    expect(await status(`/api/events/${event}`)).toBe(200);
    expect(await count("deliveries")).toBe(1);
  });
});

describe("RETENTION_DAYS", () => {
  it("defaults to 30 days, takes 0 for ever, and refuses anything but a whole number of days naming the variable", () => {
    expect(configFromEnv({}).retentionDays).toBe(30);
    expect(configFromEnv({ RETENTION_DAYS: "0" }).retentionDays).toBe(0);
    expect(configFromEnv({ RETENTION_DAYS: "365" }).retentionDays).toBe(365);
    expect(() => configFromEnv({ RETENTION_DAYS: "a month" })).toThrow("RETENTION_DAYS: must be a number");
    expect(() => configFromEnv({ RETENTION_DAYS: "1.5" })).toThrow("RETENTION_DAYS: must be a whole number of days");
    expect(() => configFromEnv({ RETENTION_DAYS: "-1" })).toThrow(/^RETENTION_DAYS: must be at least 0$/);
  });
});

import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSecretBox, keyIdOf, parseEncryptionKeys } from "../../src/domain/secret-box.js";
import { createWorker } from "../../src/runtime/worker.js";
import type { WorkerEnv } from "../../src/runtime/worker-env.js";
import { callEvent } from "../support/events.js";
import { clientOf, createSource, createWebhook, ENCRYPTION_KEY, ingest, startGateway, TEST_SCHEDULE, type TestGateway } from "./gateway.js";

// A new ENCRYPTION_KEY on Workers. A Worker invocation may make only so many D1 queries (50 on the Free
// plan, 1,000 on Paid), so the deliveries sealed with the old key cannot all be re-sealed when an isolate
// starts: it seals sources, rules and one page of deliveries, and each cron run seals more, from a cursor
// kept in D1. Isolates of the previous version may go on writing with the old key for a while, so the
// rotation ends with a second look once ten minutes have passed. Until then the old key is still needed,
// and a start without it is refused.

const GRACE_MS = 10 * 60_000;

const NEW_KEY = "bmV3LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY3ODlhYmM=";
const API_KEY = "crm-api-key-5c1e";
/** Deliveries made before the rotation: three pages of 100. */
const DELIVERIES = 250;

let gw: TestGateway;

beforeEach(async () => {
  gw = await startGateway();
});
afterEach(async () => {
  await gw.stop();
});

/** The Worker over the test's D1 with another ENCRYPTION_KEY (its admin client, and its cron), sealing one page per cron run. */
function workerWithKey(encryptionKey: string) {
  const worker = createWorker({ clock: gw.clock, schedule: TEST_SCHEDULE, sealingPagesPerRun: 1 });
  const env = { ...gw.env, ENCRYPTION_KEY: encryptionKey } as WorkerEnv;
  const fetcher = async (path: string, init: RequestInit) => {
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request(`http://gateway.test${path}`, init), env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
  return {
    ...clientOf(fetcher),
    cron: () => worker.scheduled(createScheduledController({ scheduledTime: gw.clock.now(), cron: "* * * * *" }), env),
  };
}

const keyId = async (key: string) => (await createSecretBox(parseEncryptionKeys(key))).keyId;

/** How many stored values of each key id: the API key header of every delivery, and the source and rule secrets. */
async function sealedWith() {
  const count = (ids: Array<string | null>) => ids.reduce<Record<string, number>>((counts, id) => ({ ...counts, [id ?? "plaintext"]: (counts[id ?? "plaintext"] ?? 0) + 1 }), {});
  const rows = async (sql: string) => (await gw.env.DB.prepare(sql).all<{ value: string }>()).results.map((row) => keyIdOf(row.value));
  return {
    deliveries: count(await rows(`SELECT json_extract(request, '$.headers."X-Api-Key"') AS value FROM deliveries`)),
    sources: count(await rows("SELECT secret AS value FROM sources")),
    rules: count(await rows("SELECT secret AS value FROM webhooks")),
  };
}

describe("rotating ENCRYPTION_KEY on Workers", () => {
  it("seals a page at an isolate's start and more at each cron run, then takes a second look; the old key stays needed until then", async () => {
    const source = await createSource(gw);
    await createWebhook(gw, { url: "https://crm.example.com/calls", headers: { "X-Api-Key": API_KEY } });
    expect((await ingest(gw, source, Array.from({ length: DELIVERIES }, () => callEvent()))).status).toBe(202);
    const [oldId, newId] = [await keyId(ENCRYPTION_KEY), await keyId(NEW_KEY)];
    expect(await sealedWith()).toEqual({ deliveries: { [oldId]: DELIVERIES }, sources: { [oldId]: 1 }, rules: { [oldId]: 1 } });

    gw.clock.advance(3_600_000);

    // Step one, as the README says: the new key after the old one. Every isolate can then open both; nothing changes.
    const previous = workerWithKey(`${ENCRYPTION_KEY},${NEW_KEY}`);
    await previous.cron();
    expect((await sealedWith()).deliveries).toEqual({ [oldId]: DELIVERIES });

    // Step two: the new key first. An isolate's start seals the source, the rule and one page of 100.
    const rotated = workerWithKey(`${NEW_KEY},${ENCRYPTION_KEY}`);
    expect((await rotated.api("GET", "/api/sources")).status).toBe(200);
    expect(await sealedWith()).toEqual({ deliveries: { [newId]: 100, [oldId]: 150 }, sources: { [newId]: 1 }, rules: { [newId]: 1 } });

    const newKeyAlone = workerWithKey(NEW_KEY);
    const refused = await newKeyAlone.send("/health", {});
    expect(refused.status).toBe(500);
    expect(refused.body.error.message).toContain(`ENCRYPTION_KEY does not open this database's secrets, which are sealed with key ${oldId}`);

    await rotated.cron();
    expect((await sealedWith()).deliveries).toEqual({ [newId]: 200, [oldId]: 50 });
    await rotated.cron();
    expect((await sealedWith()).deliveries).toEqual({ [newId]: DELIVERIES });
    expect((await newKeyAlone.send("/health", {})).status).toBe(500);

    // Isolates of step one are still finishing requests: they read what the new key sealed, and seal with the old one.
    const late = await createSource(previous, "Late source");
    expect((await ingest(previous, late, callEvent())).status).toBe(202);
    expect((await ingest(previous, source, callEvent())).status).toBe(202);
    await rotated.cron();
    expect(await sealedWith()).toEqual({ deliveries: { [newId]: DELIVERIES, [oldId]: 2 }, sources: { [newId]: 1, [oldId]: 1 }, rules: { [newId]: 1 } });

    // Ten minutes on, the second look seals what they wrote, and the rotation is over.
    gw.clock.advance(GRACE_MS);
    await rotated.cron();
    expect(await sealedWith()).toEqual({ deliveries: { [newId]: DELIVERIES + 2 }, sources: { [newId]: 2 }, rules: { [newId]: 1 } });

    // The new key alone starts, and opens what the old one sealed.
    expect((await newKeyAlone.send("/health", {})).body).toEqual({ status: "ok", database: "ok" });
    const { results } = await gw.env.DB.prepare(`SELECT json_extract(request, '$.headers."X-Api-Key"') AS value FROM deliveries`).all<{ value: string }>();
    const box = await createSecretBox(parseEncryptionKeys(NEW_KEY));
    // The rule's key is filled in when each attempt is sent: a delivery holds its placeholder, sealed all the same.
    for (const { value } of results) expect(await box.open(value)).toMatch(/^__SECRET__[0-9a-f]{24}__header__$/);
    expect((await ingest(newKeyAlone, late, callEvent())).status).toBe(202);
  });
});

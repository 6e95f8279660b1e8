import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, ingest } from "./support/gateway-api.js";
import { clientAt, spawnGateway, type ChildServer } from "./support/gateway-process.js";
import { Receiver, type Received } from "./support/receiver.js";

// kill -9 while events stream in and deliveries are in flight, again and again, restarting on the same
// database and port: every event answered 202 still reaches the receiver, each copy under one webhook-id.

const KILLS = [7, 3, 11, 5, 9]; // events acknowledged by each run of the gateway before it is killed
const SLOW_EVERY = [3, 2, 4, 2, 3, 2]; // per run, every n-th request the receiver holds (1 s): in flight at the kill
const SENDERS = 3;

let dir: string;
let receiver: Receiver;
let gateway: ChildServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-crash-"));
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await gateway?.kill();
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves when `check` holds, re-checked on every call of the returned `poke`. */
function condition(check: () => boolean): { met: Promise<void>; poke: () => void } {
  let resolve!: () => void;
  const met = new Promise<void>((r) => (resolve = r));
  const poke = () => check() && resolve();
  return { met, poke };
}

const uniqueidOf = (request: Received) => (JSON.parse(request.body) as { uniqueid: string }).uniqueid;

describe("crash safety", () => {
  it("delivers every acknowledged event at least once across repeated SIGKILLs, duplicates under one webhook-id", async () => {
    const databaseFile = join(dir, "gateway.db");
    gateway = await spawnGateway({ databaseFile });
    const port = gateway.port;
    const admin = clientAt(gateway.url); // the same address after every restart
    const source = await createSource(admin);
    await createWebhook(admin, { url: `${receiver.url}/crm`, method: "POST_JSON", params: { uniqueid: "uniqueid" }, retries: 20, timeout_ms: 5_000 });

    // The receiver: per run of the gateway, holds every n-th request it gets, and notes that one arrived.
    let run = 0;
    let receivedThisRun = 0;
    let slowArrived = false;
    const watchers = new Set<() => void>();
    const pokeAll = () => watchers.forEach((poke) => poke());
    receiver.handler = () => {
      receivedThisRun += 1;
      const slow = receivedThisRun % SLOW_EVERY[run] === 0;
      if (slow) slowArrived = true;
      queueMicrotask(pokeAll);
      return slow ? { delayMs: 1_000 } : {};
    };

    // The PBX: a few senders posting new calls at a steady pace; a refused connection is simply not acknowledged.
    const acknowledged: string[] = [];
    const statuses = new Set<number>();
    let ackedThisRun = 0;
    let streaming = true;
    const sender = async () => {
      while (streaming) {
        const event = callEvent();
        const answer = await ingest(admin, source, event).catch(() => null);
        if (answer) statuses.add(answer.status);
        if (answer?.status === 202) {
          acknowledged.push(event.uniqueid);
          ackedThisRun += 1;
          pokeAll();
        }
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    };
    const senders = Array.from({ length: SENDERS }, sender);

    for (const kills of KILLS) {
      // Kill once this run has acknowledged enough and the receiver is holding a request it got from it.
      const ready = condition(() => ackedThisRun >= kills && slowArrived);
      watchers.add(ready.poke);
      ready.poke();
      await ready.met;
      watchers.delete(ready.poke);
      await gateway.kill("SIGKILL");

      run += 1;
      receivedThisRun = 0;
      slowArrived = false;
      ackedThisRun = 0;
      gateway = await spawnGateway({ databaseFile, port });
    }
    streaming = false;
    await Promise.all(senders);

    // Everything acknowledged arrives from the last run (its start-up sweep resends what the kills interrupted).
    const delivered = () => new Set(receiver.requests.map(uniqueidOf));
    const allArrived = condition(() => acknowledged.every((id) => delivered().has(id)));
    watchers.add(allArrived.poke);
    allArrived.poke();
    await allArrived.met;

    expect([...statuses].filter((status) => status !== 202)).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILLS.reduce((a, b) => a + b, 0));
    const keysByEvent = new Map<string, Set<string>>();
    for (const request of receiver.requests) {
      const keys = keysByEvent.get(uniqueidOf(request)) ?? new Set();
      keys.add(String(request.headers["webhook-id"]));
      keysByEvent.set(uniqueidOf(request), keys);
    }
    expect([...keysByEvent.values()].filter((keys) => keys.size !== 1)).toEqual([]);
    // Each kill interrupted a held request, so at least that many deliveries were sent twice, each under its one key.
    const copies = receiver.requests.length - keysByEvent.size;
    expect(copies).toBeGreaterThanOrEqual(KILLS.length);
  }, 60_000);
});

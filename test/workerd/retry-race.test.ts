import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "../support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway, type TestGateway } from "./gateway.js";
import { Receiver } from "./receiver.js";

let gw: TestGateway;
let receiver: Receiver;
beforeEach(async () => {
  gw = await startGateway();
  receiver = await new Receiver().start();
});
afterEach(async () => {
  await gw.stop();
  await receiver.stop();
});

// A retry by hand reads the delivery, then writes it: an attempt the consumer completes in between (sent,
// failed, pending again) must make the retry a 409, not a second send at once with a budget counted from
// attempts it no longer has. The route is held between its read and its write at its webhook look-up.
describe("retry of a pending delivery racing the consumer", () => {
  it("answers 409 when the consumer made an attempt between the route's read and its write", async () => {
    const real = (gw.env as any).DB;
    let armed = false; // hold only the route's webhook read
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let blocked!: () => void;
    const blockedNow = new Promise<void>((r) => (blocked = r));
    const wrapStmt = (stmt: any): any =>
      new Proxy(stmt, {
        get(target, prop) {
          const value = target[prop];
          if (prop === "bind") return (...args: unknown[]) => wrapStmt(value.apply(target, args));
          if (["all", "raw", "first", "run"].includes(prop as string))
            return async (...args: unknown[]) => { blocked(); await gate; return value.apply(target, args); };
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    (gw.env as any).DB = new Proxy(real, {
      get(target, prop) {
        if (prop === "prepare")
          return (sql: string) => {
            const stmt = target.prepare(sql);
            if (armed && /from "webhooks"/i.test(sql)) { armed = false; return wrapStmt(stmt); }
            return stmt;
          };
        const value = target[prop];
        return typeof value === "function" ? value.bind(target) : value;
      },
    });

    const source = await createSource(gw);
    await createWebhook(gw, { url: `${receiver.url}/x`, retries: 3 });
    receiver.handler = () => ({ status: 503, headers: { "retry-after": "3600" } });
    const answer = await ingest(gw, source, callEvent());
    await gw.settle();
    const [d] = await deliveriesOf(gw, answer.body.event_id);
    expect(d).toMatchObject({ status: "pending", attempt_count: 1, max_attempts: 4 });

    armed = true;
    const retry = gw.api("POST", `/api/deliveries/${d.id}/retry`);
    await blockedNow; // the route has read the pending row and waits on its webhook read
    gw.clock.advance(3_600_000);
    await gw.settle(); // the consumer's scheduled attempt: sent, fails, pending again
    const mid = (await gw.api("GET", `/api/deliveries/${d.id}`)).body;
    expect(mid).toMatchObject({ status: "pending", attempt_count: 2 });
    release();
    const r = await retry;
    expect(r.status).toBe(409);
    await gw.settle();
    const end = (await gw.api("GET", `/api/deliveries/${d.id}`)).body;
    expect(end).toMatchObject({ status: "pending", attempt_count: 2, max_attempts: 4, last_error: expect.stringContaining("503") });
    expect(receiver.requests).toHaveLength(2);
  });
});

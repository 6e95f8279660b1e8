import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSource, createWebhook, startGateway, type TestGateway } from "./gateway.js";

// The Worker's twin of test/source-rule-race.test.ts: a source deleted while a rule naming it is saved leaves
// no rule naming a source that no longer exists. Here the requests are interleaved by holding D1's statement
// (alone or in a batch) until the other request is answered; it then runs as it would have.

let gw: TestGateway;
let hold: (pattern: RegExp) => { reached: Promise<void>; release: () => void };

beforeEach(async () => {
  gw = await startGateway();
  hold = holdingStatements(gw);
});
afterEach(async () => {
  await gw.stop();
});

/**
 * Puts a proxy in front of the Worker's D1 binding (before its first request, which builds the gateway on it)
 * through which `hold(pattern)` holds the next statement whose SQL matches until `release()`.
 */
function holdingStatements(gateway: TestGateway) {
  const real = (gateway.env as any).DB;
  const targets = new WeakMap<object, any>();
  let armed: { pattern: RegExp; gate: Promise<void>; reach: () => void } | undefined;
  const held = new WeakSet<object>();
  const wait = async () => {
    const { gate, reach } = armed!;
    armed = undefined;
    reach();
    await gate;
  };
  const wrap = (statement: any, holds: boolean): any => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        const value = target[prop];
        if (prop === "bind") return (...args: unknown[]) => wrap(value.apply(target, args), holds);
        if (holds && ["all", "raw", "first", "run"].includes(prop as string)) return async (...args: unknown[]) => (await wait(), value.apply(target, args));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    targets.set(proxy, statement);
    if (holds) held.add(proxy);
    return proxy;
  };
  (gateway.env as any).DB = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), armed?.pattern.test(sql) === true);
      if (prop === "batch") {
        return async (statements: object[]) => {
          if (statements.some((statement) => held.has(statement))) await wait();
          return target.batch(statements.map((statement) => targets.get(statement) ?? statement));
        };
      }
      const value = target[prop];
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return (pattern: RegExp) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reach!: () => void;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    armed = { pattern, gate, reach };
    return { reached, release };
  };
}

async function expectNoRuleNamingAMissingSource() {
  const sources = new Set((await gw.api("GET", "/api/sources")).body.data.map((source: { id: string }) => source.id));
  for (const rule of (await gw.api("GET", "/api/webhooks")).body.data) {
    for (const id of rule.source_ids) expect(sources, `${rule.id} names ${id}`).toContain(id);
  }
}

const rule = (sourceId: string) => ({ name: "calls of one PBX", events: ["call.end"], url: "http://127.0.0.1:9/crm", source_ids: [sourceId] });

describe("deleting a source while a rule naming it is saved", () => {
  it("a rule saved between the delete's check and its write: the delete is refused (409)", async () => {
    const source = await createSource(gw);
    const held = hold(/^delete from "sources"/i);
    const deleting = gw.api("DELETE", `/api/sources/${source.id}`);
    await held.reached;
    expect((await gw.api("POST", "/api/webhooks", rule(source.id))).status).toBe(201);
    held.release();
    const deleted = await deleting;
    expect(deleted.status).toBe(409);
    expect(deleted.body.error.code).toBe("conflict");
    await expectNoRuleNamingAMissingSource();
  });

  it("a source deleted between a new rule's check and its write: the rule is refused (400, naming the source)", async () => {
    const source = await createSource(gw);
    const held = hold(/^insert into "webhooks"/i);
    const saving = gw.api("POST", "/api/webhooks", rule(source.id));
    await held.reached;
    expect((await gw.api("DELETE", `/api/sources/${source.id}`)).status).toBe(204);
    held.release();
    const saved = await saving;
    expect(saved.status).toBe(400);
    expect(saved.body.error).toMatchObject({ code: "invalid_request", details: [{ field: "source_ids.0", message: `no source ${source.id}` }] });
    await expectNoRuleNamingAMissingSource();
  });

  it("a source deleted between an edit's check and its write: the edit is refused (400), the rule left as it was", async () => {
    const [kept, deleted] = [await createSource(gw, "kept"), await createSource(gw, "deleted")];
    const hook = await createWebhook(gw, rule(kept.id));
    const held = hold(/^update "webhooks"/i);
    const editing = gw.api("PATCH", `/api/webhooks/${hook.id}`, { source_ids: [kept.id, deleted.id], enabled: false });
    await held.reached;
    expect((await gw.api("DELETE", `/api/sources/${deleted.id}`)).status).toBe(204);
    held.release();
    const edited = await editing;
    expect(edited.status).toBe(400);
    expect(edited.body.error.details).toEqual([{ field: "source_ids.1", message: `no source ${deleted.id}` }]);
    expect((await gw.api("GET", `/api/webhooks/${hook.id}`)).body).toMatchObject({ source_ids: [kept.id], enabled: true });
    await expectNoRuleNamingAMissingSource();
  });
});

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSource, createWebhook, startGateway, type TestGateway } from "./support/gateway.js";

// A source deleted while it is edited (the edit answers 404, not 500), or while a rule naming it is saved:
// whichever commits first wins, and no rule is left naming a source that no longer exists. The requests are
// interleaved by holding one of the store's writes until the other request is answered (the write then runs as
// it would have): on Node its store method, in workerd its D1 statement.

let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway();
});
afterEach(async () => {
  await gw.stop();
});

/** Every source a rule names exists. */
async function expectNoRuleNamingAMissingSource() {
  const sources = new Set((await gw.api("GET", "/api/sources")).body.data.map((source: { id: string }) => source.id));
  for (const rule of (await gw.api("GET", "/api/webhooks")).body.data) {
    for (const id of rule.source_ids) expect(sources, `${rule.id} names ${id}`).toContain(id);
  }
}

const rule = (sourceId: string) => ({ name: "calls of one PBX", events: ["call.end"], url: "http://127.0.0.1:9/crm", source_ids: [sourceId] });

describe("deleting a source while it is edited", () => {
  it("deleted between the edit's read and its write: the edit answers 404, and nothing is saved", async () => {
    const source = await createSource(gw);
    const held = gw.holdNextWrite("update source");
    const editing = gw.api("PATCH", `/api/sources/${source.id}`, { name: "renamed" });
    await held.reached;
    expect((await gw.api("DELETE", `/api/sources/${source.id}`)).status).toBe(204);
    held.release();
    const edited = await editing;
    expect(edited.status).toBe(404);
    expect(edited.body.error.code).toBe("not_found");
    expect((await gw.api("GET", "/api/sources")).body.data).toEqual([]);
  });
});

describe("deleting a source while a rule naming it is saved", () => {
  it("a rule saved between the delete's check and its write: the delete is refused (409)", async () => {
    const source = await createSource(gw);
    const held = gw.holdNextWrite("delete source");
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
    const held = gw.holdNextWrite("insert rule");
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
    const held = gw.holdNextWrite("update rule");
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

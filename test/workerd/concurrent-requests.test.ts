import { applyD1Migrations, reset, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createHmac } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "../support/events.js";
import { projectJson } from "../support/files.js";
import { clientOf, createSource, type GatewayUnderTest } from "../support/gateway-api.js";

// Requests that an isolate serves at the same time, each in its own request context, through the Worker's
// own fetch handler. An isolate's requests cannot wait on each other's I/O: workerd cancels a request whose
// promise another request's I/O settles ("the Worker's code had hung"). (gateway.ts calls the handlers from
// one test context, where that cannot show.)

beforeEach(async () => {
  await reset();
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
});

const gateway = clientOf((path, init) => SELF.fetch(new Request(`http://gateway.test${path}`, init))) as GatewayUnderTest;
const count = async (table: string) => ((await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first()) as { n: number }).n;

async function post(path: string, headers: Record<string, string>, body: string): Promise<number> {
  const response = await SELF.fetch(new Request(`http://gateway.test${path}`, { method: "POST", headers, body }));
  await response.arrayBuffer();
  return response.status;
}

describe("requests served at once by one isolate", () => {
  it("ingests sent together are each answered 202, with every event stored once", async () => {
    const source = await createSource(gateway);
    const headers = { authorization: `Bearer ${source.secret}`, "content-type": "application/json" };
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(`/ingest/${source.id}`, headers, JSON.stringify(callEvent({ uniqueid: `together.${i}` })))),
    );
    expect(statuses).toEqual(statuses.map(() => 202));
    expect(await count("events")).toBe(20);
  });

  it("events of one call sent together are each answered 202", async () => {
    const secret = "wildix-secret-0123456789";
    const source = await createSource(gateway, "Wildix", "wildix", secret);
    const kinds = ["call-start", "call-update", "call-end"].map((name) => projectJson(`test/fixtures/wildix/${name}.json`));
    const bodies = Array.from({ length: 9 }, (_, i) => JSON.stringify({ ...kinds[i % 3], time: kinds[i % 3].time + i }));
    const statuses = await Promise.all(
      bodies.map((body) => post(`/ingest/${source.id}`, { "content-type": "application/json", "x-signature": createHmac("sha256", secret).update(body).digest("hex") }, body)),
    );
    expect(statuses).toEqual(statuses.map(() => 202));
    expect(await count("events")).toBe(9);
  });
});

import { afterEach, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { callEvent } from "./support/events.js";
import { createSource, ingest, startGateway, type TestGateway } from "./support/gateway.js";

// On Node a timer starts a retention pass every minute, and `expire()` one at once: a pass never starts
// while another runs (two would contend for the database thread, each in the other's way).

const DAY_MS = 86_400_000;

let gw: TestGateway;
afterEach(async () => {
  await gw.stop();
});

it("runs a pass asked for while another runs after it, never beside it", async () => {
  const lines: string[] = [];
  gw = await startGateway({ retentionDays: 1, log: createLogger("info", (line) => lines.push(line)) });
  const source = await createSource(gw);
  for (const length of [100, 100, 50]) expect((await ingest(gw, source, Array.from({ length }, () => callEvent()))).status).toBe(202);
  gw.clock.advance(DAY_MS + 1);

  await Promise.all([gw.expire(), gw.expire()]);
  const passes = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === "expired records deleted");
  // The first pass deleted everything; the second found nothing left.
  expect(passes.map((pass) => pass.events)).toEqual([250]);
  expect(Number((await gw.sql("select count(*) as n from events"))[0].n)).toBe(0);
});

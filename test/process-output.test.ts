import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { createSource, createWebhook, ingest } from "./support/gateway-api.js";
import { clientAt, spawnGateway } from "./support/gateway-process.js";
import { callEvent } from "./support/events.js";
import { Receiver } from "./support/receiver.js";

// What `npm start` prints on stderr under load: nothing, unless something is wrong.

it("prints no warning with many attempts in flight, each listening on the dispatcher's stop signal", async () => {
  const receiver = await new Receiver().start();
  let answer!: () => void;
  const held = new Promise<void>((resolve) => (answer = resolve));
  receiver.handler = () => ({ status: 200, until: held });
  const dir = mkdtempSync(join(tmpdir(), "gateway-output-"));
  const gateway = await spawnGateway({ databaseFile: join(dir, "gateway.db") });
  let stderr = "";
  gateway.child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise((resolve) => gateway.child.once("close", resolve));
  try {
    const admin = clientAt(gateway.url);
    const source = await createSource(admin, "busy PBX");
    await createWebhook(admin, { url: `${receiver.url}/crm`, timeout_ms: 60_000 });
    for (let i = 0; i < 20; i++) expect((await ingest(admin, source, callEvent({ uniqueid: `out.${i}` }))).status).toBe(202);
    await receiver.waitFor(20);
  } finally {
    answer();
    await gateway.kill();
    await closed;
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // Node warns past 10 listeners on one signal ("Possible EventTarget memory leak detected"), which is misleading.
  expect(stderr).toBe("");
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { expect, it } from "vitest";
import { createSource, createWebhook, ingest } from "./support/gateway-api.js";
import { clientAt, spawnGateway } from "./support/gateway-process.js";
import { callEvent } from "./support/events.js";
import { startGateway } from "./support/gateway.js";
import { Receiver } from "./support/receiver.js";

// What `npm start` prints: on stderr under load, nothing unless something is wrong; in its log, its stop.

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

it("warns of no listener leak from a gateway started in this process either, as tests and embedders start it", async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on("warning", onWarning);
  const receiver = await new Receiver().start();
  let answer!: () => void;
  const held = new Promise<void>((resolve) => (answer = resolve));
  receiver.handler = () => ({ status: 200, until: held });
  const gw = await startGateway();
  try {
    const source = await createSource(gw, "busy PBX");
    await createWebhook(gw, { url: `${receiver.url}/crm`, timeout_ms: 60_000 });
    for (let i = 0; i < 20; i++) expect((await ingest(gw, source, callEvent({ uniqueid: `in.${i}` }))).status).toBe(202);
    await receiver.waitFor(20);
  } finally {
    answer();
    await gw.stop();
    await receiver.stop();
    process.off("warning", onWarning);
  }
  expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
});

it("logs when a stop begins, naming the signal, and when it is done, with how long it took and the deliveries left for the next start", async () => {
  const receiver = await new Receiver().start();
  let answer!: () => void;
  const held = new Promise<void>((resolve) => (answer = resolve));
  receiver.handler = () => ({ status: 200, until: held });
  const dir = mkdtempSync(join(tmpdir(), "gateway-output-"));
  const gateway = await spawnGateway({ databaseFile: join(dir, "gateway.db"), logLevel: "info" });
  let stdout = "";
  gateway.child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const closed = new Promise((resolve) => gateway.child.once("close", resolve));
  try {
    const admin = clientAt(gateway.url);
    const source = await createSource(admin, "PBX");
    await createWebhook(admin, { url: `${receiver.url}/crm`, timeout_ms: 60_000 });
    for (let i = 0; i < 3; i++) expect((await ingest(admin, source, callEvent({ uniqueid: `stop.${i}` }))).status).toBe(202);
    await receiver.waitFor(3);
    await gateway.kill("SIGTERM");
    await closed;
  } finally {
    answer();
    await gateway.kill();
    await receiver.stop();
  }
  try {
    const log = stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
    const stopping = log.findIndex((entry) => entry.msg === "gateway stopping");
    const stopped = log.findIndex((entry) => entry.msg === "gateway stopped");
    expect(log[stopping]).toMatchObject({ level: "info", time: expect.any(String), signal: "SIGTERM" });
    expect(stopped).toBeGreaterThan(stopping);
    expect(log[stopped]).toMatchObject({ level: "info", duration_ms: expect.any(Number), deliveries_handed_back: 3 });
    // The three were interrupted, and wait in the outbox as the line says.
    const db = createClient({ url: `file:${join(dir, "gateway.db")}` });
    const { rows } = await db.execute("SELECT status, count(*) AS n FROM deliveries GROUP BY status");
    db.close();
    expect(rows.map((row) => [row.status, row.n])).toEqual([["pending", 3]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

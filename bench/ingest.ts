import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callEvents } from "./events.js";
import { createSource, createWebhook } from "../test/support/gateway-api.js";
import { clientAt, spawnGateway, spawnServer, type ChildServer } from "../test/support/gateway-process.js";
import { LoadGenerator, type Sent, type Target } from "./load.js";
import { processCpu, type CpuTime } from "./cpu.js";
import { CountingReceiver } from "./receiver.js";
import { summarize } from "./stats.js";
import { fixed, ratio, table } from "./table.js";

// End to end over HTTP: the gateway (its own process, libSQL file), the durable forwarder and the bare
// forwarder, each driven by the same load generator and delivering to the same receiver, in this process,
// on one clock.

export interface IngestSettings {
  events: number;
  concurrency: number;
  rate: number;
  seconds: number;
}

interface Figures {
  ingestPerSecond: number;
  ingestP50: number;
  ingestP99: number;
  deliveriesPerSecond: number;
  deliveryP50: number;
  deliveryP99: number;
  /** CPU time of the server process per accepted event, all its threads. */
  cpuPerEvent: number;
  /** The same, of its main thread alone (the event loop). */
  mainThreadCpuPerEvent: number;
  refused: number;
}

interface System {
  name: string;
  server: ChildServer;
  target: Target;
}

const DELIVERY_TIMEOUT_MS = 120_000;

/** `BENCH_CPU_PROFILE=<dir>`: the servers write V8 CPU profiles (all threads) there when they stop. */
function profileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

async function startGatewaySystem(dir: string, receiverUrl: string): Promise<System> {
  // One source sends everything here: lift its rate limit, which would otherwise answer 429 past 200/s.
  const unlimited = { INGEST_RATE_PER_SECOND: "1000000", INGEST_BURST: "1000000" };
  const server = await spawnGateway({ databaseFile: join(dir, "gateway.db"), env: unlimited, nodeFlags: profileFlags() });
  const client = clientAt(server.url);
  const source = await createSource(client, "bench PBX");
  // One rule, one delivery per event, signed (the default): the uniqueid lets the receiver time it.
  await createWebhook(client, {
    name: "bench CRM",
    method: "POST_JSON",
    url: `${receiverUrl}/crm`,
    params: { uniqueid: "uniqueid", phone: "src", talk: "bill_duration", agent: "agent.extension" },
  });
  return { name: "gateway", server, target: { origin: server.url, path: `/ingest/${source.id}`, headers: { authorization: `Bearer ${source.secret}` } } };
}

async function startForwarderSystem(name: string, script: string, env: Record<string, string>): Promise<System> {
  const server = await spawnServer(script, env, profileFlags());
  return { name, server, target: { origin: server.url, path: "/ingest/bench", headers: {} } };
}

function figuresOf(sent: Sent[], receiver: CountingReceiver, cpu: CpuTime): Figures {
  const accepted = sent.filter((s) => s.status === 202);
  const first = Math.min(...sent.map((s) => s.startedAt));
  const lastAnswer = Math.max(...sent.map((s) => s.startedAt + s.latencyMs));
  const delays = accepted.map((s) => receiver.arrivals.get(s.uniqueid)! - s.startedAt);
  const lastArrival = Math.max(...receiver.arrivals.values());
  const ingest = summarize(sent.map((s) => s.latencyMs));
  const delivery = summarize(delays);
  return {
    ingestPerSecond: (sent.length * 1000) / (lastAnswer - first),
    ingestP50: ingest.p50,
    ingestP99: ingest.p99,
    deliveriesPerSecond: (accepted.length * 1000) / (lastArrival - first),
    deliveryP50: delivery.p50,
    deliveryP99: delivery.p99,
    cpuPerEvent: cpu.process / accepted.length,
    mainThreadCpuPerEvent: cpu.mainThread / accepted.length,
    refused: sent.length - accepted.length,
  };
}

async function measure(system: System, receiver: CountingReceiver, run: (load: LoadGenerator) => Promise<Sent[]>, connections: number) {
  const load = new LoadGenerator(system.target, connections);
  try {
    receiver.reset();
    const cpuBefore = processCpu(system.server.child.pid);
    const sent = await run(load);
    const accepted = sent.filter((s) => s.status === 202).length;
    await receiver.waitFor(accepted, DELIVERY_TIMEOUT_MS);
    const cpuAfter = processCpu(system.server.child.pid);
    const used = { process: cpuAfter.process - cpuBefore.process, mainThread: cpuAfter.mainThread - cpuBefore.mainThread };
    return figuresOf(sent, receiver, used);
  } finally {
    await load.close();
  }
}

/** The figures of the gateway, the durable forwarder and the bare forwarder, and the gateway's against each. */
function report(title: string, [gateway, durable, bare]: Figures[]): string {
  const row = (label: string, key: keyof Figures, digits: number) => [
    label,
    fixed(gateway[key], digits),
    fixed(durable[key], digits),
    fixed(bare[key], digits),
    ratio(gateway[key], durable[key]),
    ratio(gateway[key], bare[key]),
  ];
  return `${title}\n${table(
    ["", "gateway", "durable forwarder", "bare forwarder", "gateway / durable", "gateway / bare"],
    [
      row("ingest requests/s", "ingestPerSecond", 0),
      row("ingest p50 ms", "ingestP50", 2),
      row("ingest p99 ms", "ingestP99", 2),
      row("deliveries completed/s", "deliveriesPerSecond", 0),
      row("event-to-delivery p50 ms", "deliveryP50", 2),
      row("event-to-delivery p99 ms", "deliveryP99", 2),
      row("CPU ms per event (process)", "cpuPerEvent", 3),
      row("  of which main thread", "mainThreadCpuPerEvent", 3),
      [" refused (not 202)", String(gateway.refused), String(durable.refused), String(bare.refused), "", ""],
    ],
  )}`;
}

export async function ingestBench(settings: IngestSettings): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "gateway-bench-"));
  const receiver = await new CountingReceiver().start();
  const target = { TARGET_URL: `${receiver.url}/crm` };
  const systems = [
    await startGatewaySystem(dir, receiver.url),
    await startForwarderSystem("durable forwarder", "bench/durable-forwarder-main.ts", { ...target, DATABASE_FILE: join(dir, "durable.db") }),
    await startForwarderSystem("bare forwarder", "bench/forwarder-main.ts", target),
  ];
  try {
    const closed = async (system: System) => {
      await measure(system, receiver, (load) => load.closedLoop(callEvents(500), settings.concurrency), settings.concurrency); // warm-up
      return measure(system, receiver, (load) => load.closedLoop(callEvents(settings.events), settings.concurrency), settings.concurrency);
    };
    const open = (system: System) =>
      measure(system, receiver, (load) => load.openLoop(callEvents(settings.rate * settings.seconds), settings.rate), 256);

    const closedFigures: Figures[] = [];
    for (const system of systems) closedFigures.push(await closed(system));
    const openFigures: Figures[] = [];
    for (const system of systems) openFigures.push(await open(system));
    return [
      report(`Closed loop: ${settings.events} events, ${settings.concurrency} requests outstanding (throughput)`, closedFigures),
      report(`Open loop: ${settings.rate} events/s for ${settings.seconds} s (latency at a fixed rate; from when each was due)`, openFigures),
    ].join("\n\n");
  } finally {
    for (const system of systems) await system.server.kill();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

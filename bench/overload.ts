import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_INGEST_MAX_PENDING } from "../src/api/admission.js";
import { createSource, createWebhook } from "../test/support/gateway-api.js";
import { clientAt, spawnGateway } from "../test/support/gateway-process.js";
import { callEvents } from "./events.js";
import { LoadGenerator, type Sent } from "./load.js";
import { CountingReceiver } from "./receiver.js";
import { summarize } from "./stats.js";
import { fixed, table } from "./table.js";

// More than the gateway can take: an open loop from several sources over many connections, against the
// gateway without a bound on the ingest requests it handles at once and with the default one.

export interface OverloadSettings {
  rate: number;
  seconds: number;
  connections: number;
  sources: number;
}

interface Figures {
  accepted: number;
  refused: number;
  failed: number;
  p50: number;
  p99: number;
  lateP50: number;
  lateP99: number;
  answersAfterMs: number;
  deliveriesAfterMs: number;
  idleRssMiB: number;
  peakRssMiB: number;
}

/** A bound no load here reaches: the gateway as it was before it had one. */
const UNBOUNDED = 1_000_000_000;
const DELIVERY_TIMEOUT_MS = 300_000;

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

/** Sends `rate` events/s for `seconds`, spread over the sources, each with its share of the connections. */
async function offer(settings: OverloadSettings, url: string, sources: Array<{ id: string; secret: string }>): Promise<Sent[]> {
  const perSource = Math.ceil(settings.connections / sources.length);
  const loads = sources.map(
    (source) => new LoadGenerator({ origin: url, path: `/ingest/${source.id}`, headers: { authorization: `Bearer ${source.secret}` } }, perSource),
  );
  try {
    const share = settings.rate / sources.length;
    const runs = await Promise.all(loads.map((load) => load.openLoop(callEvents(share * settings.seconds), share)));
    return runs.flat();
  } finally {
    await Promise.all(loads.map((load) => load.close()));
  }
}

async function measure(settings: OverloadSettings, maxPending: number, receiver: CountingReceiver): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), "gateway-overload-"));
  const env = { INGEST_RATE_PER_SECOND: "1000000", INGEST_BURST: "1000000", INGEST_MAX_PENDING: String(maxPending) };
  const server = await spawnGateway({ databaseFile: join(dir, "gateway.db"), env });
  const pid = server.child.pid!;
  let peakRssMiB = rssMiB(pid);
  const sampler = setInterval(() => (peakRssMiB = Math.max(peakRssMiB, rssMiB(pid))), 100);
  try {
    receiver.reset();
    const client = clientAt(server.url);
    const sources: Array<{ id: string; secret: string }> = [];
    for (let i = 0; i < settings.sources; i++) sources.push(await createSource(client, `PBX ${i}`));
    await createWebhook(client, { name: "CRM", method: "POST_JSON", url: `${receiver.url}/crm`, params: { uniqueid: "uniqueid" } });
    const idleRssMiB = rssMiB(pid);
    const sent = await offer(settings, server.url, sources);
    const start = Math.min(...sent.map((s) => s.startedAt));
    const lastDue = start + settings.seconds * 1000;
    const lastAnswer = Math.max(...sent.map((s) => s.startedAt + s.latencyMs));
    const accepted = sent.filter((s) => s.status === 202).length;
    await receiver.waitFor(accepted, DELIVERY_TIMEOUT_MS);
    const all = summarize(sent.map((s) => s.latencyMs));
    const late = summarize(sent.filter((s) => s.startedAt >= start + (settings.seconds * 1000) / 2).map((s) => s.latencyMs));
    return {
      accepted,
      refused: sent.filter((s) => s.status === 503).length,
      failed: settings.rate * settings.seconds - sent.filter((s) => s.status === 202 || s.status === 503).length,
      p50: all.p50,
      p99: all.p99,
      lateP50: late.p50,
      lateP99: late.p99,
      answersAfterMs: lastAnswer - lastDue,
      deliveriesAfterMs: Math.max(...receiver.arrivals.values()) - lastDue,
      idleRssMiB,
      peakRssMiB,
    };
  } finally {
    clearInterval(sampler);
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function overloadBench(settings: OverloadSettings): Promise<string> {
  const receiver = await new CountingReceiver().start();
  try {
    const unbounded = await measure(settings, UNBOUNDED, receiver);
    const bounded = await measure(settings, DEFAULT_INGEST_MAX_PENDING, receiver);
    const row = (label: string, value: (f: Figures) => number, digits = 0) => [label, fixed(value(unbounded), digits), fixed(value(bounded), digits)];
    const title =
      `Overload: ${settings.rate} events/s for ${settings.seconds} s from ${settings.sources} sources over ${settings.connections} ` +
      "connections (open loop; latency from when each was due)";
    return `${title}\n${table(
      ["", "no bound", `INGEST_MAX_PENDING=${DEFAULT_INGEST_MAX_PENDING}`],
      [
        row("accepted (202)", (f) => f.accepted),
        row("refused (503 overloaded)", (f) => f.refused),
        row("failed otherwise", (f) => f.failed),
        row("answer p50 ms", (f) => f.p50),
        row("answer p99 ms", (f) => f.p99),
        row("  second half: p50 ms", (f) => f.lateP50),
        row("  second half: p99 ms", (f) => f.lateP99),
        row("last answer, ms after the last send", (f) => f.answersAfterMs),
        row("last delivery, ms after the last send", (f) => f.deliveriesAfterMs),
        row("RSS idle MiB", (f) => f.idleRssMiB),
        row("RSS peak MiB", (f) => f.peakRssMiB),
      ],
    )}`;
  } finally {
    await receiver.stop();
  }
}

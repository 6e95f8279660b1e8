import { cpus, loadavg, totalmem } from "node:os";
import { ingestBench } from "./ingest.js";
import { overloadBench } from "./overload.js";
import { handlebarsBench, jsonataBench } from "./render.js";

// `npm run bench [ingest|render|overload]`: figures for this machine, now. Settings come from the environment.

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

function machine(): string {
  const cores = cpus();
  const load = loadavg().map((n) => n.toFixed(2)).join(" ");
  return `${new Date().toISOString()}  Node ${process.version}  ${cores.length} x ${cores[0]?.model ?? "cpu"}  ${(totalmem() / 2 ** 30).toFixed(0)} GiB  load average ${load}`;
}

async function main() {
  const which = process.argv[2] ?? "all";
  console.log(machine());
  if (which === "all" || which === "render") {
    console.log(`\n${handlebarsBench(setting("BENCH_RENDERS", 5_000))}`);
    console.log(`\n${await jsonataBench(setting("BENCH_EVALUATIONS", 5_000))}`);
  }
  if (which === "all" || which === "ingest") {
    const settings = {
      events: setting("BENCH_EVENTS", 5_000),
      concurrency: setting("BENCH_CONCURRENCY", 32),
      rate: setting("BENCH_RATE", 1_000),
      seconds: setting("BENCH_SECONDS", 5),
    };
    console.log(`\n${await ingestBench(settings)}`);
  }
  // Not part of "all": it keeps the machine busy for a minute or more, beyond what the gateway can take.
  if (which === "overload") {
    const settings = {
      rate: setting("BENCH_OVERLOAD_RATE", 8_000),
      seconds: setting("BENCH_OVERLOAD_SECONDS", 15),
      connections: setting("BENCH_CONNECTIONS", 3_000),
      sources: setting("BENCH_SOURCES", 10),
    };
    console.log(`\n${await overloadBench(settings)}`);
  }
  console.log(`\nload average after: ${loadavg().map((n) => n.toFixed(2)).join(" ")}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

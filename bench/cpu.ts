import { readFileSync } from "node:fs";

/**
 * CPU time (user + system, ms) a process has used so far, from /proc on Linux; NaN elsewhere. Unlike
 * requests per second it barely moves when other work shares the machine, so it compares runs.
 */
export function processCpuMs(pid: number | undefined): number {
  try {
    // The fields after the command name (which may hold spaces) start at the state, field 3; utime and stime are 14 and 15.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

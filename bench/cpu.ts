import { readFileSync } from "node:fs";

/** CPU time used so far, ms: the whole process, and its main thread (the event loop) alone. */
export interface CpuTime {
  process: number;
  mainThread: number;
}

/** User + system CPU ms of a /proc stat file; the fields after the command name (which may hold spaces) start at field 3. */
function statCpuMs(path: string): number {
  const fields = readFileSync(path, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * CPU time of a process, from /proc on Linux (NaN elsewhere). Unlike requests per second it barely moves
 * when other work shares the machine, so it compares runs. The main thread's share tells the event loop's
 * work from the database thread's and libuv's.
 */
export function processCpu(pid: number | undefined): CpuTime {
  try {
    // A thread's stat is /proc/<pid>/task/<tid>/stat; the main thread's tid is the pid.
    return { process: statCpuMs(`/proc/${pid}/stat`), mainThread: statCpuMs(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return { process: NaN, mainThread: NaN };
  }
}

import { spawnSync } from "node:child_process";

// A real disk that fills up, without touching the machine's: the process under test runs in its own user +
// mount namespace (`unshare -rm`) with a small tmpfs over a folder, which only that namespace sees.

/**
 * A `wrap` for a command line (see spawnServer, startDevWorker): it runs with a fresh tmpfs of `size` over
 * `dir`, after `prepare` (a shell command; `$0` is `dir`) has filled part or all of it. Without the tmpfs it
 * does not run at all (exit 97), rather than on the machine's own disk.
 */
export function onSmallDisk(dir: string, size: string, prepare: string) {
  return (command: string[]) => ["unshare", "-rm", "sh", "-c", `mkdir -p "$0" && mount -t tmpfs -o size=${size} tmpfs "$0" || exit 97; ${prepare}; exec "$@"`, dir, ...command];
}

/** Runs a shell command inside the namespaces of process `pid` (started by `onSmallDisk`), where its small disk is. */
export function inNamespaceOf(pid: number, command: string) {
  return spawnSync("nsenter", ["-t", String(pid), "-U", "-m", "--preserve-credentials", "sh", "-c", command], { encoding: "utf8" });
}

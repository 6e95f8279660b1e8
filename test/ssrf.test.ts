import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The SSRF guard against private, link-local, metadata and loopback destinations. The gateway runs in
// test/support/ssrf-scenario.ts, inside a user + network + mount namespace where only loopback exists and
// /etc/hosts is the test's own: a guard bug can never send a packet to a real private address.

const ROOT = new URL("..", import.meta.url).pathname;
let dir: string;
let result: {
  first: Record<string, { status: string; attempts: number; error: string | null }>;
  second: Record<string, { status: string; attempts: number; error: string | null }>;
  received: { trap: number; allowed: number; rebound: number };
};

function inLoopbackNamespace(hostsFile: string): Promise<string> {
  const script = `ip link set lo up && mount --bind "$1" /etc/hosts && exec node --import tsx test/support/ssrf-scenario.ts "$1"`;
  const child = spawn("unshare", ["-rnm", "sh", "-c", script, "sh", hostsFile], { cwd: ROOT });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) =>
    child.once("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`scenario exited with ${code}:\n${stderr}`)))),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-ssrf-"));
  writeFileSync(join(dir, "hosts"), "");
  result = JSON.parse(await inLoopbackNamespace(join(dir, "hosts")));
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SSRF guard (OUTBOUND_ALLOW=127.0.0.2, in a loopback-only namespace)", () => {
  it.each([
    ["private_ip", "10.0.0.1 is a blocked address (private)"],
    ["metadata", "169.254.169.254 is a blocked address (cloud metadata)"],
    ["unique_local_ip6", "fd00::1 is a blocked address (unique local)"],
    ["loopback_ip", "127.0.0.1 is a blocked address (loopback)"],
    ["loopback_ip6", "::1 is a blocked address (loopback)"],
    ["mapped_ip6", "::ffff:7f00:1 is a blocked address (loopback)"],
    ["private_name", "private.test resolves to 10.0.0.1, which is a blocked address (private)"],
    ["localhost", "localhost resolves to 127.0.0.1, which is a blocked address (loopback)"],
  ])("refuses %s at once, without a retry, naming the address and the setting", (rule, reason) => {
    for (const round of [result.first, result.second]) {
      expect(round[rule]).toEqual({
        status: "failed",
        attempts: 1,
        error: expect.stringContaining(`outbound request refused: ${reason}; set OUTBOUND_ALLOW to permit it`),
      });
      expect(round[rule].error).toMatch(/\(not retryable\)$/);
    }
  });

  it("delivers to an address OUTBOUND_ALLOW permits, by IP and by a name resolving to it", () => {
    expect(result.first.allowed).toEqual({ status: "delivered", attempts: 1, error: null });
    expect(result.first.rebind).toEqual({ status: "delivered", attempts: 1, error: null });
    expect(result.second.allowed).toEqual({ status: "delivered", attempts: 1, error: null });
  });

  it("checks the address a name resolves to when connecting, so re-pointing the name (DNS rebinding) is refused", () => {
    expect(result.second.rebind).toEqual({
      status: "failed",
      attempts: 1,
      error: expect.stringContaining("rebind.test resolves to 127.0.0.1, which is a blocked address (loopback)"),
    });
  });

  it("lets no request through to a blocked listener", () => {
    expect(result.received).toEqual({ trap: 0, allowed: 3, rebound: 0 });
  });
});

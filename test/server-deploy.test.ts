import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, expect, it } from "vitest";

// The server deployment's files (deploy/, README "Run on a server"), used as systemd and nginx use them: the
// unit's command, run in the checkout with the settings of the environment file, serves a gateway the proxy
// configuration points at, that shows ingest URLs as the proxy serves them, and stops on systemd's SIGTERM.

const ROOT = new URL("..", import.meta.url).pathname;
const read = (file: string) => readFileSync(join(ROOT, "deploy", file), "utf8");
const dir = mkdtempSync(join(tmpdir(), "gateway-deploy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The `Key=value` settings of a systemd unit or environment file, comments left out. */
function settingsOf(text: string): Map<string, string> {
  const lines = text.split("\n").map((line) => /^([A-Za-z_]+)=(.*)$/.exec(line.trim())).filter((match) => match !== null);
  return new Map(lines.map(([, key, value]) => [key, value]));
}

const unit = settingsOf(read("call-event-gateway.service"));
const env = settingsOf(read("gateway.env"));

it("the unit, the environment file and the proxy agree on where the gateway listens and writes", () => {
  const database = env.get("DATABASE_URL")!.replace(/^file:/, "");
  expect(dirname(database)).toBe(unit.get("ReadWritePaths"));
  expect(dirname(dirname(database))).toBe(unit.get("WorkingDirectory"));
  expect(read("nginx.conf")).toContain(`server ${env.get("HOST")}:${env.get("PORT")};`);
  expect(env.get("TRUST_PROXY_HOPS")).toBe("1");
});

it("the unit's command starts the gateway with the environment file's settings, and SIGTERM stops it", async () => {
  const [command, ...args] = unit.get("ExecStart")!.split(" ");
  const child = spawn(basename(command), args, {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, ...Object.fromEntries(env), DATABASE_URL: `file:${join(dir, "data", "gateway.db")}`, PORT: "0" },
  });
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(String(code ?? signal))));
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)[\s\S]*Admin token \(shown once; keep it\): (adm_\S+)\n/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  try {
    expect(new URL(url).hostname).toBe("127.0.0.1");
    const token = /Admin token \(shown once; keep it\): (adm_\S+)/.exec(output)![1];
    // As nginx.conf forwards it: the scheme the PBX used, and the client's address appended.
    const created = await fetch(`${url}/api/sources`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.5" },
      body: JSON.stringify({ name: "PBX", kind: "wildix" }),
    }).then((response) => response.json());
    expect(created.ingest_url).toBe(`https://${new URL(url).host}/ingest/${created.id}`);
  } finally {
    // systemd stops a service by sending SIGTERM to each of its processes (npm, and the node it runs).
    process.kill(-child.pid!, "SIGTERM");
  }
  // npm ends by the signal (systemd counts that as a clean stop); the gateway has stopped serving.
  expect(["0", "SIGTERM"]).toContain(await exited);
  await expect(fetch(`${url}/health`)).rejects.toThrow();
});

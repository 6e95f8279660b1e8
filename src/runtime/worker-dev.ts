import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newSecret } from "../domain/ids.js";
import { newEncryptionKey } from "../domain/secret-box.js";

// `npm run dev:worker`: the Workers build in local workerd (wrangler dev), offline, with local D1
// migrations applied, and an admin token (shown) and an encryption key in .dev.vars, generated on first run.

const DEV_VARS = ".dev.vars";
// Offline: no telemetry, and no fetch of the `Request.cf` object from Cloudflare. An --env-file is read even
// where the user's environment turned .env files off.
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true" };
const wrangler = (args: string[]) => ["node_modules/.bin/wrangler", args] as const;

/** `--persist-to DIR` or `--persist-to=DIR` (where wrangler keeps the local D1 and queues) applies to the migrations too. */
const args = process.argv.slice(2);
const persistAt = args.findIndex((arg) => arg === "--persist-to" || arg.startsWith("--persist-to="));
const persist = persistAt < 0 ? [] : args[persistAt].includes("=") ? [args[persistAt]] : args.slice(persistAt, persistAt + 2);

/** A secret from the environment, else from .dev.vars, else a new one written there. */
function devSecret(name: string, generate: () => string): string {
  if (process.env[name]) return process.env[name];
  const vars = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, "utf8") : "";
  const existing = new RegExp(`^${name}=(.+)$`, "m").exec(vars)?.[1]?.trim();
  if (existing) return existing;
  const value = generate();
  writeFileSync(DEV_VARS, `${vars}${vars && !vars.endsWith("\n") ? "\n" : ""}${name}=${value}\n`);
  return value;
}

/** `NAME='value'` as wrangler's .env reader takes it word for word: quoted, and `$` escaped from its expansion. */
function envLine(name: string, value: string): string {
  const quote = ["'", "`"].find((q) => !value.includes(q));
  if (!quote || /[\r\n]/.test(value)) throw new Error(`${name} holds a line break or both ' and \`: wrangler could not read it back`);
  return `${name}=${quote}${value.replaceAll("$", "\\$")}${quote}`;
}

/**
 * Secrets taken from the environment reach wrangler in a file only this user may read, never on its command
 * line, which `ps` shows every local user. Given `--env-file`, wrangler reads that file instead of .dev.vars,
 * so it holds .dev.vars's lines and then the environment's values, the later line winning. Wrangler expands
 * `$NAME` in an env file but not in .dev.vars: each `$` of .dev.vars is escaped, and its values stay as they are.
 */
function privateEnvFile(names: string[]): { args: string[]; remove(): void } {
  const given = names.filter((name) => process.env[name]);
  if (given.length === 0) return { args: [], remove() {} };
  const vars = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, "utf8").replaceAll("$", "\\$") : "";
  const text = [vars, ...given.map((name) => envLine(name, process.env[name]!)), ""].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "gateway-dev-")); // mode 0700
  const file = join(dir, "vars.env");
  writeFileSync(file, text, { mode: 0o600 });
  return { args: ["--env-file", file], remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const token = devSecret("ADMIN_TOKEN", () => newSecret("adm_"));
devSecret("ENCRYPTION_KEY", newEncryptionKey);
const migrate = spawnSync(...wrangler(["d1", "migrations", "apply", "DB", "--local", ...persist]), { env, stdio: ["ignore", "inherit", "inherit"] });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const port = process.env.PORT ?? "8787";
console.log(
  [
    `Call-event gateway (Workers build) starting on http://localhost:${port}`,
    `Admin token${process.env.ADMIN_TOKEN ? " (ADMIN_TOKEN)" : ` (from ${DEV_VARS})`}: ${token}`,
    `Use it as:  curl -H "Authorization: Bearer ${token}" http://localhost:${port}/api/webhooks`,
    `Cron sweep by hand:  curl "http://localhost:${port}/cdn-cgi/handler/scheduled"`,
  ].join("\n"),
);
// OUTBOUND_ALLOW from the environment (e.g. 127.0.0.0/8 for a receiver on this machine), else .dev.vars.
const outbound = process.env.OUTBOUND_ALLOW ? ["--var", `OUTBOUND_ALLOW:${process.env.OUTBOUND_ALLOW}`] : [];
const secrets = privateEnvFile(["ADMIN_TOKEN", "ENCRYPTION_KEY"]);
const dev = spawn(...wrangler(["dev", "--port", port, ...secrets.args, ...outbound, ...args]), { env, stdio: "inherit" });
process.on("exit", () => secrets.remove());
dev.on("exit", (code) => process.exit(code ?? 0));
// A signal to this script (npm passes one on, as package.json execs it) stops wrangler, which stops workerd.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => dev.kill(signal));

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { newSecret } from "../domain/ids.js";
import { newEncryptionKey } from "../domain/secret-box.js";

// `npm run dev:worker`: the Workers build in local workerd (wrangler dev), offline, with local D1
// migrations applied, and an admin token (shown) and an encryption key in .dev.vars, generated on first run.

const DEV_VARS = ".dev.vars";
// Offline: no telemetry, and no fetch of the `Request.cf` object from Cloudflare.
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
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

const token = devSecret("ADMIN_TOKEN", () => newSecret("adm_"));
const encryptionKey = devSecret("ENCRYPTION_KEY", newEncryptionKey);
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
const dev = spawn(...wrangler(["dev", "--port", port, "--var", `ADMIN_TOKEN:${token}`, "--var", `ENCRYPTION_KEY:${encryptionKey}`, ...outbound, ...args]), { env, stdio: "inherit" });
dev.on("exit", (code) => process.exit(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => dev.kill(signal));

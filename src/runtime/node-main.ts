import { statSync } from "node:fs";
import { configFromEnv, misspelledSettings } from "../config.js";
import { exitWithReason } from "./node-failure.js";
import { startNodeGateway, type NodeGateway } from "./node.js";

// `npm start`: the gateway on Node with the embedded libSQL file unless DATABASE_URL says otherwise.

function adminTokenLine(configured: boolean, generated: string | null): string {
  if (configured) return "Admin token: the value of ADMIN_TOKEN";
  if (generated) return `Admin token (shown once; keep it): ${generated}`;
  return "Admin token: the one printed at first start (run `npm run admin-token` to issue a new one)";
}

function encryptionKeyLine({ origin, file }: NodeGateway["encryptionKey"]): string {
  if (origin === "ENCRYPTION_KEY") return "Encryption key for secrets at rest: the value of ENCRYPTION_KEY";
  if (origin === "generated") return `Encryption key for secrets at rest: generated into ${file} (back it up apart from the database)`;
  // The gateway writes it 0600; one put back by hand (a restore, `echo key > encryption.key`) is often 0644.
  if (statSync(file!).mode & 0o077) return `Encryption key for secrets at rest: ${file}, which other users of this machine may read: chmod 600 it`;
  return `Encryption key for secrets at rest: ${file}`;
}

function retentionLine(days: number): string {
  if (days === 0) return "Retention: events and deliveries kept for ever (RETENTION_DAYS=0)";
  return `Retention: events and deliveries deleted after ${days} days (RETENTION_DAYS)`;
}

function outboundLine(allow: string | undefined): string {
  if (allow) return `Outbound: private destinations refused except OUTBOUND_ALLOW=${allow}`;
  return "Outbound: private destinations refused (for a receiver on this machine: OUTBOUND_ALLOW=127.0.0.0/8,::1)";
}

/** A line for each variable that looks like a setting but is not one: it is not read. */
function misspelledLines(env: Record<string, string | undefined>): string[] {
  return misspelledSettings(env).map(({ name, meant }) => `Not a setting, not read: ${name} (did you mean ${meant}?)`);
}

async function main() {
  const config = configFromEnv(process.env);
  const gateway = await startNodeGateway(config);
  console.log(
    [
      `Call-event gateway listening on ${gateway.url}`,
      `Console:  ${gateway.url}/`,
      `Database: ${config.databaseUrl}`,
      encryptionKeyLine(gateway.encryptionKey),
      outboundLine(process.env.OUTBOUND_ALLOW),
      retentionLine(config.retentionDays),
      adminTokenLine(Boolean(config.adminToken), gateway.generatedAdminToken),
      `Use it as:  curl -H "Authorization: Bearer <token>" ${gateway.url}/api/webhooks`,
      ...misspelledLines(process.env),
    ].join("\n"),
  );
  const shutdown = (signal: NodeJS.Signals) => gateway.close(signal).then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch(exitWithReason);

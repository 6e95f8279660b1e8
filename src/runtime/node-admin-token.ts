import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { rotateAdminToken } from "../api/admin-token.js";
import { configFromEnv } from "../config.js";
import { GatewayError } from "../domain/errors.js";
import { settingQueries } from "../store/settings.js";
import { openDatabase } from "./node-database.js";
import { exitWithReason } from "./node-failure.js";

// `npm run admin-token`: issues a new admin token (the old one stops working at once, in a running gateway
// too) and prints it once.
async function main() {
  const config = configFromEnv(process.env);
  const file = config.databaseUrl.startsWith("file:") ? resolve(config.databaseUrl.slice("file:".length)) : null;
  if (file && !existsSync(file)) {
    // A token for a database no gateway uses would only mislead: most likely DATABASE_URL is not the gateway's.
    throw new GatewayError(400, "no_database", `no gateway database at ${file} (DATABASE_URL): start the gateway once, or set DATABASE_URL to the one it uses`);
  }
  const { db, client } = await openDatabase(config.databaseUrl, config.databaseAuthToken);
  try {
    const token = await rotateAdminToken({ settings: settingQueries(db) });
    console.log(`New admin token (shown once; the previous one no longer works): ${token}`);
    if (config.adminToken) console.log("Note: ADMIN_TOKEN is set, and takes precedence while it is.");
  } finally {
    client.close();
  }
}

main().catch(exitWithReason);

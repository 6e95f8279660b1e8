import { rotateAdminToken } from "../api/admin-token.js";
import { configFromEnv } from "../config.js";
import { settingQueries } from "../store/settings.js";
import { openDatabase } from "./node-database.js";
import { exitWithReason } from "./node-failure.js";

// `npm run admin-token`: issues a new admin token (the old one stops working) and prints it once.
async function main() {
  const config = configFromEnv(process.env);
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

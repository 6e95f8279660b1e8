import type { SecretBox } from "../domain/secret-box.js";
import type { Database } from "./database.js";
import type { Driver } from "./driver-sql.js";
import { deliveryQueries } from "./deliveries.js";
import { eventQueries } from "./events.js";
import { deferToTimer, groupCommit, type Defer } from "./group-commit.js";
import { settings } from "./schema.js";
import { settingQueries } from "./settings.js";
import { sourceQueries } from "./sources.js";
import { webhookQueries } from "./webhooks.js";

export interface StoreOptions {
  /** How long commits wait to be grouped (see group-commit.ts). */
  defer?: Defer;
  /** This process is the database's only writer: sources and rules are kept in memory between writes. */
  soleWriter?: boolean;
}

/**
 * Every query the core runs, over one drizzle database (libSQL on Node, D1 on Workers); the hot path's writes
 * go to the driver underneath as prebuilt SQL (see driver-sql.ts). Secrets go in
 * sealed by `box` and come out plaintext. Ingest commits and delivery outcomes that arrive together are
 * written in one transaction (`defer` decides how long "together" is).
 */
export function createStore(db: Database, driver: Driver, box: SecretBox, { defer = deferToTimer, soleWriter = false }: StoreOptions = {}) {
  const commit = groupCommit(driver, defer);
  return {
    settings: settingQueries(db),
    sources: sourceQueries(db, box, soleWriter),
    webhooks: webhookQueries(db, box, soleWriter),
    events: eventQueries(db, box, commit),
    deliveries: deliveryQueries(db, box, commit),
    /** Reads a row: the database answers (for `/health`). */
    async ping(): Promise<void> {
      await db.select({ key: settings.key }).from(settings).limit(1);
    },
  };
}

export type Store = ReturnType<typeof createStore>;

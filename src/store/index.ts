import type { SecretBox } from "../domain/secret-box.js";
import type { Database } from "./database.js";
import type { Driver } from "./driver-sql.js";
import { deliveryQueries } from "./deliveries.js";
import { eventQueries } from "./events.js";
import { commitAlone, groupCommit, type Defer } from "./group-commit.js";
import { settings } from "./schema.js";
import { settingQueries } from "./settings.js";
import { sourceQueries } from "./sources.js";
import { webhookQueries } from "./webhooks.js";

interface StoreOptions {
  /**
   * Commits that arrive together share one transaction, `defer` deciding how long "together" is (see
   * group-commit.ts). Without it, each commit is its own: Workers, whose requests cannot share I/O.
   */
  groupWith?: Defer;
  /** This process is the database's only writer: sources and rules are kept in memory between writes. */
  soleWriter?: boolean;
}

/**
 * Every query the core runs, over one drizzle database (libSQL on Node, D1 on Workers); the hot path's writes
 * go to the driver underneath as prebuilt SQL (see driver-sql.ts). Secrets go in sealed by `box` and come
 * out plaintext.
 */
export function createStore(db: Database, driver: Driver, box: SecretBox, { groupWith, soleWriter = false }: StoreOptions = {}) {
  const commit = groupWith ? groupCommit(driver, groupWith) : commitAlone(driver);
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

import type { Database } from "./database.js";
import { deliveryQueries } from "./deliveries.js";
import { eventQueries } from "./events.js";
import { settingQueries } from "./settings.js";
import { sourceQueries } from "./sources.js";
import { webhookQueries } from "./webhooks.js";

/** Every query the core runs, over one drizzle database (libSQL on Node, D1 on Workers). */
export function createStore(db: Database) {
  return {
    settings: settingQueries(db),
    sources: sourceQueries(db),
    webhooks: webhookQueries(db),
    events: eventQueries(db),
    deliveries: deliveryQueries(db),
  };
}

export type Store = ReturnType<typeof createStore>;

import { eq } from "drizzle-orm";
import type { Database } from "./database.js";
import { settings } from "./schema.js";

/** The statement that sets a setting (for a batch); `settingQueries(db).set` runs it alone. */
export function settingUpsert(db: Database, key: string, value: string) {
  return db.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } });
}

export function settingQueries(db: Database) {
  return {
    async get(key: string): Promise<string | null> {
      const [row] = await db.select().from(settings).where(eq(settings.key, key));
      return row?.value ?? null;
    },
    async set(key: string, value: string): Promise<void> {
      await settingUpsert(db, key, value);
    },
  };
}

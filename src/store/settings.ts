import { eq } from "drizzle-orm";
import type { Database } from "./database.js";
import { settings } from "./schema.js";

export function settingQueries(db: Database) {
  return {
    async get(key: string): Promise<string | null> {
      const [row] = await db.select().from(settings).where(eq(settings.key, key));
      return row?.value ?? null;
    },
    async set(key: string, value: string): Promise<void> {
      await db.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } });
    },
  };
}

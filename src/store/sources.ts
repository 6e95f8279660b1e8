import { desc, eq } from "drizzle-orm";
import type { Database } from "./database.js";
import { sources, type SourceRow } from "./schema.js";

export type Source = SourceRow;

export function sourceQueries(db: Database) {
  return {
    async insert(source: Source): Promise<void> {
      await db.insert(sources).values(source);
    },
    async get(id: string): Promise<Source | null> {
      const [row] = await db.select().from(sources).where(eq(sources.id, id));
      return row ?? null;
    },
    list(): Promise<Source[]> {
      return db.select().from(sources).orderBy(desc(sources.id));
    },
    async update(id: string, changes: Partial<Source>): Promise<Source | null> {
      const [row] = await db.update(sources).set(changes).where(eq(sources.id, id)).returning();
      return row ?? null;
    },
    async delete(id: string): Promise<boolean> {
      const rows = await db.delete(sources).where(eq(sources.id, id)).returning({ id: sources.id });
      return rows.length > 0;
    },
  };
}

import { desc, eq } from "drizzle-orm";
import type { SecretBox } from "../domain/secret-box.js";
import type { Database } from "./database.js";
import { openSource, sealSource } from "./sealed-rows.js";
import { sources, type SourceRow } from "./schema.js";
import { withSnapshot } from "./table-snapshot.js";

export type Source = SourceRow;

/** Sources; their secrets sealed at rest. With `inMemory`, read once and kept until the next write. */
export function sourceQueries(db: Database, box: SecretBox, inMemory: boolean) {
  const queries = sourceTable(db, box);
  if (!inMemory) return queries;
  return withSnapshot(queries, queries.list, (rows) => ({
    get: async (id: string) => (await rows()).find((source) => source.id === id) ?? null,
    list: rows,
  }));
}

function sourceTable(db: Database, box: SecretBox) {
  const open = (row: Source) => openSource(box, row);
  return {
    async insert(source: Source): Promise<void> {
      await db.insert(sources).values(await sealSource(box, source));
    },
    async get(id: string): Promise<Source | null> {
      const [row] = await db.select().from(sources).where(eq(sources.id, id));
      return row ? open(row) : null;
    },
    async list(): Promise<Source[]> {
      return Promise.all((await db.select().from(sources).orderBy(desc(sources.id))).map(open));
    },
    async update(id: string, changes: Partial<Source>): Promise<Source | null> {
      const [row] = await db.update(sources).set(await sealSource(box, changes)).where(eq(sources.id, id)).returning();
      return row ? open(row) : null;
    },
    async delete(id: string): Promise<boolean> {
      const rows = await db.delete(sources).where(eq(sources.id, id)).returning({ id: sources.id });
      return rows.length > 0;
    },
  };
}

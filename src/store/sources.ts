import { and, desc, eq, sql } from "drizzle-orm";
import type { SecretBox } from "../domain/secret-box.js";
import type { Database } from "./database.js";
import { openSource, sealSource } from "./sealed-rows.js";
import { sources, webhooks, type SourceRow } from "./schema.js";
import { withSnapshot } from "./table-snapshot.js";

export type Source = SourceRow;

/** A rule names the source among its `source_ids`. */
const namesSource = (id: string) => sql`exists (select 1 from json_each(${webhooks.source_ids}) as named where named.value = ${id})`;

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
    /**
     * Deletes the source unless a rule names it, in one transaction, so that a rule saved meanwhile is seen:
     * whether there was such a source, and the rules that name it (it is deleted only if there are none).
     */
    async delete(id: string): Promise<{ found: boolean; namedBy: string[] }> {
      const [found, namedBy] = await db.batch([
        db.select({ id: sources.id }).from(sources).where(eq(sources.id, id)),
        db.select({ id: webhooks.id }).from(webhooks).where(namesSource(id)),
        db.delete(sources).where(and(eq(sources.id, id), sql`not exists (select 1 from ${webhooks} where ${namesSource(id)})`)),
      ]);
      return { found: found.length > 0, namedBy: namedBy.map((rule) => rule.id) };
    },
  };
}

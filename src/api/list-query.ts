import type { Context } from "hono";
import { z } from "zod";
import { parseWith } from "../domain/errors.js";

// The query of a list request: which page (limit and cursor), and the filters.

export const pageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional(),
});

/** `?limit=&cursor=` for list endpoints; other query parameters are filters the caller picks out. */
export function pageQuery(c: Context) {
  return parseWith(pageSchema, { limit: c.req.query("limit"), cursor: c.req.query("cursor") || undefined });
}

/** The filters of a list request: every query parameter but the paging ones, validated by a strict schema. */
export function filterOf<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const filters = Object.entries(c.req.query()).filter(([name, value]) => value !== "" && name !== "limit" && name !== "cursor");
  return parseWith(schema, Object.fromEntries(filters));
}

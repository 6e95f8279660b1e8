import { and, asc, count, desc, eq, gt, gte, inArray, lt, notExists, or, sql } from "drizzle-orm";
import { isoAt } from "../clock.js";
import type { CallState, CanonicalEvent, EventFilter } from "../domain/event.js";
import { UNFINISHED_STATUSES, type RequestWindow } from "../domain/delivery.js";
import { firstIdAt, ID_PREFIX } from "../domain/ids.js";
import type { SecretBox } from "../domain/secret-box.js";
import { chunked, pageOf, type Database, type Page } from "./database.js";
import { rowWriter } from "./driver-sql.js";
import { sealDelivery } from "./sealed-rows.js";
import type { GroupCommit } from "./group-commit.js";
import { attempts, calls, deliveries, events, type AttemptRow, type CallRow, type DeliveryRow, type EventRow } from "./schema.js";

export function canonicalOf(row: EventRow): CanonicalEvent {
  return { event_id: row.id, type: row.type, source: row.source, source_id: row.source_id, ...row.fields, raw: row.raw };
}

/** An event in a replay's window, as its page is cut before any is read whole (see `receivedIn`). */
export interface ReceivedEvent {
  id: string;
  source_id: string;
  /** The rule has a delivery of it. */
  delivered: boolean;
  /** Bytes of its stored payload and fields: what reading it whole takes. */
  bytes: number;
}

/** What one ingest commits in a single transaction: its events, their deliveries and any render failures. */
export interface IngestBatch {
  events: EventRow[];
  deliveries: DeliveryRow[];
  attempts: AttemptRow[];
  calls: CallRow[];
}

/** The commit failed because another request stored the same PBX event first. */
export function isDuplicateEvent(error: unknown): boolean {
  const text = `${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`;
  return text.includes("UNIQUE constraint failed: events.source_id");
}

const eventRows = rowWriter(events);
const deliveryRows = rowWriter(deliveries);
const attemptRows = rowWriter(attempts);
/** A call's state is replaced by the newest event's. */
const callRows = rowWriter(calls, { target: [calls.source_id, calls.uniqueid], set: [calls.state, calls.updated_at] });

/** Events deleted per transaction when they expire: each holds up ingest commits for a few milliseconds only. */
const EXPIRY_BATCH = 100;

/** What one expiry transaction deleted. */
interface ExpiredBatch {
  events: number;
  calls: number;
  /** The newest event it deleted: the next transaction of the pass looks past it. */
  lastEventId: string | null;
  /** It deleted all it could: there may be more to delete. */
  full: boolean;
}

/** Events, committed together with their deliveries (whose credential headers are sealed on the way in). */
/**
 * A page of events, newest first. By type or by source it walks an index in id order and stops at the page's
 * end: sorting every event of a busy source instead would hold the database's only thread for seconds. A
 * uniqueid has a handful of events, sorted.
 */
export function listQuery(db: Database, filter: EventFilter, page: Page) {
  return db
    .select()
    .from(events)
    .where(
      and(
        filter.type ? eq(events.type, filter.type as EventRow["type"]) : undefined,
        filter.source_id ? eq(events.source_id, filter.source_id) : undefined,
        filter.uniqueid ? eq(events.uniqueid, filter.uniqueid) : undefined,
        page.cursor ? lt(events.id, page.cursor) : undefined,
      ),
    )
    .orderBy(desc(events.id))
    .limit(page.limit + 1);
}

export function eventQueries(db: Database, box: SecretBox, groupCommit: GroupCommit) {
  return {
    /** All or nothing: an acknowledged event always has all its deliveries. Resolves once committed. */
    async commit(batch: IngestBatch): Promise<void> {
      const sealed = await Promise.all(batch.deliveries.map((row) => sealDelivery(box, row)));
      await groupCommit({
        inserts: [
          { into: eventRows, rows: batch.events },
          { into: deliveryRows, rows: sealed },
          { into: attemptRows, rows: batch.attempts },
          { into: callRows, rows: batch.calls },
        ],
      });
    },
    /** Events already stored for these dedupe keys of a source, by key. */
    async idsByDedupeKey(sourceId: string, keys: string[]): Promise<Map<string, string>> {
      const found = new Map<string, string>();
      for (const part of chunked(keys, 1, 1)) {
        const rows = await db
          .select({ id: events.id, key: events.dedupe_key })
          .from(events)
          .where(and(eq(events.source_id, sourceId), inArray(events.dedupe_key, part)));
        for (const row of rows) found.set(row.key, row.id);
      }
      return found;
    },
    /** The remembered state of these calls of a source, by uniqueid. */
    async callStates(sourceId: string, uniqueids: string[]): Promise<Map<string, CallState>> {
      const states = new Map<string, CallState>();
      for (const part of chunked(uniqueids, 1, 1)) {
        const rows = await db
          .select({ uniqueid: calls.uniqueid, state: calls.state })
          .from(calls)
          .where(and(eq(calls.source_id, sourceId), inArray(calls.uniqueid, part)));
        for (const row of rows) states.set(row.uniqueid, row.state);
      }
      return states;
    },
    async deliveryCounts(eventIds: string[]): Promise<Map<string, number>> {
      const counts = new Map<string, number>();
      for (const part of chunked(eventIds, 1)) {
        const rows = await db
          .select({ id: deliveries.event_id, n: count() })
          .from(deliveries)
          .where(inArray(deliveries.event_id, part))
          .groupBy(deliveries.event_id);
        for (const row of rows) counts.set(row.id, row.n);
      }
      return counts;
    },
    /**
     * One transaction of expiry: deletes up to EXPIRY_BATCH events received before `beforeMs` (and after
     * `afterId`, the newest one the pass deleted so far) with their deliveries and attempts, and as many of the
     * calls not heard of since. An event with a delivery not finished yet (pending, or being sent), or held by its
     * sender still (failed meanwhile by its rule's change), is kept,
     * however old: looking past `afterId` spares the pass reading again those it already passed over.
     */
    async deleteExpiredBatch(beforeMs: number, afterId: string | null, nowMs: number): Promise<ExpiredBatch> {
      // Unfinished, or still held by its sender (failed by its rule's change meanwhile): the sender records its
      // attempt when it is done, which would otherwise be stored without its delivery, never to be deleted.
      const unfinished = db
        .select({ one: sql`1` })
        .from(deliveries)
        .where(
          and(
            eq(deliveries.event_id, events.id),
            or(inArray(deliveries.status, UNFINISHED_STATUSES), gt(deliveries.lease_until, nowMs)),
          ),
        );
      // Ids sort by creation time, so the primary key finds the old ones.
      const expired = db
        .select({ id: events.id })
        .from(events)
        .where(
          and(
            lt(events.id, firstIdAt(ID_PREFIX.event, beforeMs)),
            afterId === null ? undefined : gt(events.id, afterId),
            notExists(unfinished),
          ),
        )
        .orderBy(events.id)
        .limit(EXPIRY_BATCH);
      const theirDeliveries = db.select({ id: deliveries.id }).from(deliveries).where(inArray(deliveries.event_id, expired));
      const staleCalls = db
        .select({ rowid: sql`rowid` })
        .from(calls)
        .where(lt(calls.updated_at, isoAt(beforeMs)))
        .limit(EXPIRY_BATCH);
      // One transaction: the same events are selected by each statement, children first.
      const [, , deletedEvents, deletedCalls] = await db.batch([
        db.delete(attempts).where(inArray(attempts.delivery_id, theirDeliveries)),
        db.delete(deliveries).where(inArray(deliveries.event_id, expired)),
        db.delete(events).where(inArray(events.id, expired)).returning({ id: events.id }),
        db.delete(calls).where(inArray(sql`rowid`, staleCalls)).returning({ uniqueid: calls.uniqueid }),
      ]);
      const eventIds = deletedEvents.map((row) => row.id).sort();
      return {
        events: deletedEvents.length,
        calls: deletedCalls.length,
        lastEventId: eventIds.at(-1) ?? afterId,
        full: deletedEvents.length === EXPIRY_BATCH || deletedCalls.length === EXPIRY_BATCH,
      };
    },
    /**
     * Up to `limit` events received in the window (from `sinceMs`, until before `untilMs`, those up to `after`
     * left out), oldest first, each with whether the rule has a delivery of it and the bytes its payload and
     * fields take: what replay pages by before it reads any whole (see `whole`). An id's time is never before
     * the event's receipt, so the primary key starts the walk at the window's start and ends it at the window's
     * end (one whose id got ahead of its receipt, the clock having stepped back, is left to a window that ends
     * later).
     */
    async receivedIn(webhookId: string, window: RequestWindow, limit: number): Promise<ReceivedEvent[]> {
      const ofRule = db
        .select({ one: sql`1` })
        .from(deliveries)
        .where(and(eq(deliveries.event_id, events.id), eq(deliveries.webhook_id, webhookId)));
      const rows = await db
        .select({
          id: events.id,
          source_id: events.source_id,
          delivered: sql<number>`exists ${ofRule}`,
          // Read from each value's header; length() would read every payload through to measure it.
          bytes: sql<number>`octet_length(${events.raw}) + octet_length(${events.fields})`,
        })
        .from(events)
        .where(
          and(
            gte(events.id, firstIdAt(ID_PREFIX.event, window.sinceMs)),
            gte(events.received_at, isoAt(window.sinceMs)),
            // Received before `untilMs` too, then: the id's time is never before the receipt's.
            window.untilMs === undefined ? undefined : lt(events.id, firstIdAt(ID_PREFIX.event, window.untilMs)),
            window.after === undefined ? undefined : gt(events.id, window.after),
          ),
        )
        .orderBy(asc(events.id))
        .limit(limit);
      return rows.map((row) => ({ ...row, delivered: Boolean(row.delivered), bytes: Number(row.bytes) }));
    },
    /** These events whole, oldest first; one deleted since its id was read (a retention pass) is left out. */
    async whole(ids: string[]): Promise<EventRow[]> {
      const rows: EventRow[] = [];
      for (const part of chunked(ids, 1)) rows.push(...(await db.select().from(events).where(inArray(events.id, part))));
      return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    async get(id: string): Promise<EventRow | null> {
      const [row] = await db.select().from(events).where(eq(events.id, id));
      return row ?? null;
    },
    async list(filter: EventFilter, page: Page) {
      const rows = await listQuery(db, filter, page);
      return pageOf(rows, page.limit);
    },
  };
}

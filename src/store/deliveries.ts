import { and, asc, count, desc, eq, gt, gte, inArray, isNull, lt, lte, notInArray, or, sql } from "drizzle-orm";
import { isoAt } from "../clock.js";
import { chunked, pageOf, type Database, type Page } from "./database.js";
import { columnSql, insertWhere, rowWriter, updateStatement, type DriverStatement, type Guard } from "./driver-sql.js";
import type { Changes, GroupCommit } from "./group-commit.js";
import { attempts, deliveries, events, type AttemptRow, type DeliveryRow } from "./schema.js";
import { UNFINISHED_STATUSES, type DeliveryFilter, type QueueDepth, type RequestWindow } from "../domain/delivery.js";
import { firstIdAt, ID_PREFIX } from "../domain/ids.js";
import type { SecretBox } from "../domain/secret-box.js";
import { openDelivery, sealDelivery } from "./sealed-rows.js";

const duePending = (nowMs: number) => and(eq(deliveries.status, "pending"), lte(deliveries.next_attempt_at, nowMs));
const leaseRunOut = (nowMs: number) => and(eq(deliveries.status, "delivering"), lte(deliveries.lease_until, nowMs));

/** Due to be sent: pending and its time has come, or claimed by a dispatcher whose lease ran out (it crashed). */
const isDue = (nowMs: number) => or(duePending(nowMs), leaseRunOut(nowMs));
/** Unfinished and sent by nobody now: pending (due or not), or claimed without a lease or with one run out. */
const unheld = (nowMs: number) =>
  or(eq(deliveries.status, "pending"), leaseRunOut(nowMs), and(eq(deliveries.status, "delivering"), isNull(deliveries.lease_until)));

/**
 * The two queries behind `dueIds`: pending deliveries by due time, and lapsed leases by when they lapsed, each
 * walking its index in order and stopping at `limit`. One query over both (an OR) sorts every due delivery to
 * find the oldest: 50 ms a sweep at 240,000 due (a CRM down for an hour), on the database's only thread.
 */
export function dueQueries(db: Database, nowMs: number, limit: number, skipWebhooks: string[]) {
  const skip = skipWebhooks.length ? notInArray(deliveries.webhook_id, skipWebhooks) : undefined;
  const columns = { id: deliveries.id, due: deliveries.next_attempt_at };
  return [
    db.select(columns).from(deliveries).where(and(duePending(nowMs), skip)).orderBy(asc(deliveries.next_attempt_at)).limit(limit),
    db.select(columns).from(deliveries).where(and(leaseRunOut(nowMs), skip)).orderBy(asc(deliveries.lease_until)).limit(limit),
  ] as const;
}

const attemptRows = rowWriter(attempts);

/**
 * A page of deliveries, newest first. Each filter alone walks an index in id order and stops at the page's end:
 * sorting every delivered delivery instead took 0.6 to 0.9 s at 300,000 on the database's only thread.
 */
export function listQuery(db: Database, filter: DeliveryFilter, page: Page) {
  return db
    .select()
    .from(deliveries)
    .where(
      and(
        filter.webhook_id ? eq(deliveries.webhook_id, filter.webhook_id) : undefined,
        filter.event_id ? eq(deliveries.event_id, filter.event_id) : undefined,
        filter.status ? eq(deliveries.status, filter.status) : undefined,
        page.cursor ? lt(deliveries.id, page.cursor) : undefined,
      ),
    )
    .orderBy(desc(deliveries.id))
    .limit(page.limit + 1);
}

/**
 * A rule's failed deliveries created in the window (from `sinceMs`, until before `untilMs`, those up to the id
 * `after` left out), oldest first, at most `limit`. An id's time is never before its creation (ids only go
 * forward), so the walk of the failed ones (index `deliveries_status`) starts at the window's start and passes
 * over no delivered one.
 */
export function failedQuery(db: Database, webhookId: string, window: RequestWindow, limit: number) {
  return db
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.webhook_id, webhookId),
        gte(deliveries.id, firstIdAt(ID_PREFIX.delivery, window.sinceMs)),
        gte(deliveries.created_at, isoAt(window.sinceMs)),
        window.untilMs === undefined ? undefined : lt(deliveries.created_at, isoAt(window.untilMs)),
        window.after === undefined ? undefined : gt(deliveries.id, window.after),
        eq(deliveries.status, "failed"),
      ),
    )
    .orderBy(asc(deliveries.id))
    .limit(limit);
}

/**
 * The event is still stored (a retention pass may have deleted it since it was read) and no delivery of it for
 * this rule is: what a delivery made for a missed event is inserted on.
 */
const missedByRule = (row: DeliveryRow): Guard => ({
  sql:
    `exists (select 1 from "events" where ${columnSql(events.id)} = ?)` +
    ` and not exists (select 1 from "deliveries" where ${columnSql(deliveries.event_id)} = ? and ${columnSql(deliveries.webhook_id)} = ?)`,
  args: [row.event_id, row.event_id, row.webhook_id],
});
/** The delivery was inserted: the attempt of one that failed to render goes in with it, or not at all. */
const deliveryStored = (id: string): Guard => ({ sql: `exists (select 1 from "deliveries" where ${columnSql(deliveries.id)} = ?)`, args: [id] });

/**
 * How a delivery's holder (the dispatcher or queue consumer sending it) found it when it wrote its outcome:
 * `taken`, still its own; `unsent`, failed meanwhile by its rule's change (disabled, deleted, 410), which left
 * counting it to the holder (see failUnsent in webhooks.ts); `settled`, ended by another hand that counted it.
 */
export type Ending = "taken" | "unsent" | "settled";

const status = columnSql(deliveries.status);
const SENDING: Guard = { sql: `${status} = 'delivering'`, args: [] };
/** Failed by its rule's change while held: the lease it kept marks it, until its holder counts it. */
const UNSENT = `${status} = 'failed' and ${columnSql(deliveries.lease_until)} is not null`;
/** A delivered one is recorded as delivered also after its rule's change failed it meanwhile: it was. */
const SENDING_OR_UNSENT: Guard = { sql: `${SENDING.sql} or (${UNSENT})`, args: [] };

/** Takes the count a rule's change left to the delivery's holder: changes a row only the first time. */
const takeUnsentCount = (id: string) => updateStatement(deliveries, deliveries.id, id, { lease_until: null }, { sql: UNSENT, args: [] });

/** The delivery's new state if it is still being sent (see `record`), else the count of an unsent one taken. */
async function endStatements(box: SecretBox, id: string, changes: Partial<DeliveryRow>): Promise<DriverStatement[]> {
  const sealed = await sealDelivery(box, changes);
  return changes.status === "delivered"
    ? [updateStatement(deliveries, deliveries.id, id, sealed, SENDING_OR_UNSENT)]
    : [updateStatement(deliveries, deliveries.id, id, sealed, SENDING), takeUnsentCount(id)];
}

/** How the delivery ended, from the rows `endStatements` changed. */
function endingOf([changed, unsent = 0]: Changes): Ending {
  return changed > 0 ? "taken" : unsent > 0 ? "unsent" : "settled";
}

/** Deliveries and their attempts; the credential headers of each stored request sealed at rest. */
export function deliveryQueries(db: Database, box: SecretBox, groupCommit: GroupCommit) {
  const open = (row: DeliveryRow) => openDelivery(box, row);
  const openAll = (rows: DeliveryRow[]) => Promise.all(rows.map(open));
  return {
    async get(id: string): Promise<DeliveryRow | null> {
      const [row] = await db.select().from(deliveries).where(eq(deliveries.id, id));
      return row ? open(row) : null;
    },
    async list(filter: DeliveryFilter, page: Page) {
      const rows = await listQuery(db, filter, page);
      return pageOf(await openAll(rows), page.limit);
    },
    async ofEvent(eventId: string): Promise<DeliveryRow[]> {
      return openAll(await db.select().from(deliveries).where(eq(deliveries.event_id, eventId)).orderBy(asc(deliveries.id)));
    },
    /** Up to `limit` of a rule's failed deliveries in the window, oldest first (see `failedQuery`). */
    async failedOf(webhookId: string, window: RequestWindow, limit: number): Promise<DeliveryRow[]> {
      return openAll(await failedQuery(db, webhookId, window, limit));
    },
    /**
     * Inserts each delivery (with its attempt, for one that failed to render) unless its rule has a delivery of
     * its event by then, or the event is gone, in one transaction: the database decides, so two callers at once
     * insert one of them, and none is left without its event. Returns the ids of those inserted.
     */
    async insertMissing(rows: DeliveryRow[], failures: AttemptRow[]): Promise<Set<string>> {
      if (!rows.length) return new Set();
      const failureOf = new Map(failures.map((attempt) => [attempt.delivery_id, attempt]));
      // Each delivery's statements: its conditional insert first, then its failure's, if any.
      const each = await Promise.all(
        rows.map(async (row) => {
          const failure = failureOf.get(row.id);
          const delivery = insertWhere(deliveries, await sealDelivery(box, row), missedByRule(row));
          return { id: row.id, statements: failure ? [delivery, insertWhere(attempts, failure, deliveryStored(row.id))] : [delivery] };
        }),
      );
      const changes = await groupCommit({ inserts: [], statements: each.flatMap((one) => one.statements) });
      const inserted = new Set<string>();
      let at = 0;
      for (const one of each) {
        if (changes[at] > 0) inserted.add(one.id);
        at += one.statements.length;
      }
      return inserted;
    },
    attempts(deliveryId: string): Promise<AttemptRow[]> {
      return db.select().from(attempts).where(eq(attempts.delivery_id, deliveryId)).orderBy(asc(attempts.number));
    },
    /** Claims these deliveries if they are due; the rows returned are this dispatcher's to send until `leaseUntil`. */
    async claim(ids: string[], nowMs: number, leaseUntil: number): Promise<DeliveryRow[]> {
      const claimed: DeliveryRow[] = [];
      for (const part of chunked(ids, 1, 8)) {
        claimed.push(
          ...(await db
            .update(deliveries)
            .set({ status: "delivering", lease_until: leaseUntil })
            .where(and(inArray(deliveries.id, part), isDue(nowMs)))
            .returning()),
        );
      }
      return openAll(claimed);
    },
    /** Up to `limit` due deliveries, oldest first, but for those of `skipWebhooks`. */
    async dueIds(nowMs: number, limit: number, skipWebhooks: string[] = []): Promise<string[]> {
      const [pending, lapsed] = await Promise.all(dueQueries(db, nowMs, limit, skipWebhooks));
      const rows = [...pending, ...lapsed].sort((a, b) => a.due - b.due);
      return rows.slice(0, limit).map((row) => row.id);
    },
    /**
     * Records an attempt and the delivery's new state together (with others' that arrive at the same time).
     * The state changes only while the delivery is still being sent, or, if it was delivered, also after its
     * rule's change failed it meanwhile: one settled otherwise (given up by the queue) is not brought back.
     */
    async record(attempt: AttemptRow, changes: Partial<DeliveryRow>): Promise<Ending> {
      return endingOf(
        await groupCommit({ inserts: [{ into: attemptRows, rows: [attempt] }], statements: await endStatements(box, attempt.delivery_id, changes) }),
      );
    },
    /** Changes a delivery being sent, without an attempt (one that cannot be sent), as `record` does. */
    async end(id: string, changes: Partial<DeliveryRow>): Promise<Ending> {
      return endingOf(await groupCommit({ inserts: [], statements: await endStatements(box, id, changes) }));
    },
    /**
     * Lengthens the lease of a delivery still being sent to `untilMs` (`taken`), for an attempt its lease would
     * not outlast; else how it ended meanwhile (`unsent` is this holder's to count), as `end` finds it.
     */
    async renewLease(id: string, untilMs: number): Promise<Ending> {
      return endingOf(await groupCommit({ inserts: [], statements: [updateStatement(deliveries, deliveries.id, id, { lease_until: untilMs }, SENDING), takeUnsentCount(id)] }));
    },
    /** Whether the delivery is still being sent; if not, how it ended (`unsent` is this holder's to count). */
    async stillSending(id: string): Promise<"sending" | Exclude<Ending, "taken">> {
      const [row] = await db.select({ status: deliveries.status, lease_until: deliveries.lease_until }).from(deliveries).where(eq(deliveries.id, id));
      if (row?.status === "delivering") return "sending";
      if (row?.status !== "failed" || row.lease_until === null) return "settled";
      const [taken] = await groupCommit({ inserts: [], statements: [takeUnsentCount(id)] });
      return taken > 0 ? "unsent" : "settled";
    },
    /** Changes a delivery; given `asRead`, only if its status and attempts are still as read before (null if not, or not found). */
    async update(id: string, changes: Partial<DeliveryRow>, asRead?: Pick<DeliveryRow, "status" | "attempt_count">): Promise<DeliveryRow | null> {
      const unchanged = asRead && and(eq(deliveries.status, asRead.status), eq(deliveries.attempt_count, asRead.attempt_count));
      const [row] = await db
        .update(deliveries)
        .set(await sealDelivery(box, changes))
        .where(and(eq(deliveries.id, id), unchanged))
        .returning();
      return row ? open(row) : null;
    },
    /**
     * Fails a delivery nobody is sending (see `unheld`); false if it is settled or held. One held is left to its
     * holder, who records its attempt on it: failed under it, with its lease cleared, the delivery would be
     * settled as failed whatever the receiver answered, and its event left to a retention pass meanwhile.
     */
    async abandonUnheld(id: string, reason: string, nowMs: number): Promise<boolean> {
      const rows = await db
        .update(deliveries)
        .set({ status: "failed", lease_until: null, last_error: reason, updated_at: isoAt(nowMs) })
        .where(and(eq(deliveries.id, id), unheld(nowMs)))
        .returning({ id: deliveries.id });
      return rows.length > 0;
    },
    /** Deliveries not settled yet, by status, and how many pending ones are due now: the queue depth. */
    async depth(nowMs: number): Promise<QueueDepth> {
      const rows = await db
        .select({
          status: deliveries.status,
          total: count(),
          due: sql<number>`coalesce(sum(case when ${deliveries.next_attempt_at} <= ${nowMs} then 1 else 0 end), 0)`,
        })
        .from(deliveries)
        .where(inArray(deliveries.status, UNFINISHED_STATUSES))
        .groupBy(deliveries.status);
      const of = (status: string) => rows.find((row) => row.status === status);
      return { pending: of("pending")?.total ?? 0, due: Number(of("pending")?.due ?? 0), delivering: of("delivering")?.total ?? 0 };
    },
    /**
     * Hands claimed deliveries a dispatcher will not send back to the outbox, due as they were: shown as
     * pending, counted as due, and taken by the next sweep instead of once their lease has run out.
     */
    async release(ids: string[]): Promise<void> {
      for (const part of chunked(ids, 1, 1)) {
        await db
          .update(deliveries)
          .set({ status: "pending", lease_until: null })
          .where(and(inArray(deliveries.id, part), eq(deliveries.status, "delivering")));
      }
    },
    /**
     * At start-up, a single dispatcher takes back what it held when it stopped. Each keeps its due time: a
     * claimed one was due already, a retry it was waiting for in memory is due when its backoff ends.
     */
    async releaseLeases(): Promise<number> {
      const rows = await db
        .update(deliveries)
        .set({ status: "pending", lease_until: null })
        .where(eq(deliveries.status, "delivering"))
        .returning({ id: deliveries.id });
      return rows.length;
    },
  };
}

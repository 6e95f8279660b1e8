import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { CallFields, CallState, SourceKind, StoredEventType } from "../domain/event.js";
import type { DeliveryStatus, RenderedRequest } from "../domain/delivery.js";
import type { WebhookDisabled, WebhookSpec } from "../domain/webhook.js";

// One schema for libSQL (Node) and D1 (Workers). Times shown to people are ISO text; times the
// dispatcher compares are integer milliseconds.

const createdAt = () => text("created_at").notNull();
const updatedAt = () => text("updated_at").notNull();
const flag = (name: string) => integer(name, { mode: "boolean" }).notNull();

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const sources = sqliteTable("sources", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  kind: text("kind").$type<SourceKind>().notNull(),
  secret: text("secret").notNull(),
  enabled: flag("enabled"),
  created_at: createdAt(),
  updated_at: updatedAt(),
});

export const webhooks = sqliteTable("webhooks", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  enabled: flag("enabled"),
  events: text("events", { mode: "json" }).$type<WebhookSpec["events"]>().notNull(),
  call_types: text("call_types", { mode: "json" }).$type<WebhookSpec["call_types"]>().notNull(),
  source_ids: text("source_ids", { mode: "json" }).$type<string[]>().notNull(),
  filter: text("filter"),
  preset: text("preset"),
  preset_config: text("preset_config", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  method: text("method").$type<WebhookSpec["method"]>().notNull(),
  url: text("url").notNull(),
  headers: text("headers", { mode: "json" }).$type<Record<string, string>>().notNull(),
  params: text("params", { mode: "json" }).$type<WebhookSpec["params"]>(),
  body_template: text("body_template"),
  content_type: text("content_type").notNull(),
  retries: integer("retries").notNull(),
  delay_seconds: integer("delay_seconds").notNull(),
  timeout_ms: integer("timeout_ms").notNull(),
  hangup_causes: text("hangup_causes", { mode: "json" }).$type<Record<string, string>>().notNull(),
  signing: text("signing").$type<WebhookSpec["signing"]>().notNull(),
  secret: text("secret").notNull(),
  transport: text("transport").$type<WebhookSpec["transport"]>().notNull().default("http"),
  /** For an SQS rule: queue region, credentials (the secret access key sealed), message group. */
  sqs: text("sqs", { mode: "json" }).$type<WebhookSpec["sqs"]>(),
  /** When and why a disabled rule was turned off (by hand, or by a 410 Gone); null while enabled. */
  disabled: text("disabled", { mode: "json" }).$type<WebhookDisabled>(),
  created_at: createdAt(),
  updated_at: updatedAt(),
});

export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    source_id: text("source_id").notNull(),
    source: text("source").$type<SourceKind>().notNull(),
    type: text("type").$type<StoredEventType>().notNull(),
    uniqueid: text("uniqueid").notNull(),
    direction: text("direction"),
    occurred_at: text("occurred_at").notNull(),
    dedupe_key: text("dedupe_key").notNull(),
    fields: text("fields", { mode: "json" }).$type<CallFields>().notNull(),
    raw: text("raw", { mode: "json" }).$type<unknown>().notNull(),
    received_at: text("received_at").notNull(),
  },
  (t) => [
    uniqueIndex("events_source_dedupe").on(t.source_id, t.dedupe_key),
    // Each list filter walks its index newest first and stops at the page's end (see listQuery in events.ts).
    index("events_type").on(t.type, t.id),
    index("events_source").on(t.source_id, t.id),
    index("events_uniqueid").on(t.uniqueid),
  ],
);

/** Per-call memory between a PBX's events (start and answer times), for sources that send them piecemeal. */
export const calls = sqliteTable(
  "calls",
  {
    source_id: text("source_id").notNull(),
    uniqueid: text("uniqueid").notNull(),
    state: text("state", { mode: "json" }).$type<CallState>().notNull(),
    updated_at: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source_id, t.uniqueid] }), index("calls_updated").on(t.updated_at)],
);

export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    event_id: text("event_id").notNull(),
    webhook_id: text("webhook_id").notNull(),
    status: text("status").$type<DeliveryStatus>().notNull(),
    /** The exact request, rendered when the delivery was created; null when rendering failed. */
    request: text("request", { mode: "json" }).$type<RenderedRequest>(),
    max_attempts: integer("max_attempts").notNull(),
    attempt_count: integer("attempt_count").notNull(),
    /**
     * Attempts made before the current retry budget began: 0, or those before the latest retry by hand. The
     * backoff counts from here, so that a fresh budget starts with the schedule's first wait.
     */
    budget_start: integer("budget_start").notNull().default(0),
    next_attempt_at: integer("next_attempt_at").notNull(),
    /** While `delivering`: until when the claiming dispatcher owns it; after that a sweep may reclaim it. */
    lease_until: integer("lease_until"),
    last_status_code: integer("last_status_code"),
    last_error: text("last_error"),
    created_at: createdAt(),
    updated_at: updatedAt(),
    delivered_at: text("delivered_at"),
  },
  (t) => [
    // The sweep walks these in order of due time, or of lapsed lease, passing over the rules it skips (those at
    // their share) without reading their rows.
    index("deliveries_due").on(t.status, t.next_attempt_at, t.webhook_id),
    index("deliveries_lease").on(t.status, t.lease_until, t.webhook_id),
    // The lists by rule and by status walk these newest first and stop at the page's end. A recovery walks the
    // failed ones from its window's start, passing over no delivered one (300,000 delivered cost 75 to 110 ms a
    // page on the database's only thread, walking the rule's).
    index("deliveries_webhook").on(t.webhook_id, t.id),
    index("deliveries_status").on(t.status, t.id),
    index("deliveries_event").on(t.event_id),
  ],
);

export const attempts = sqliteTable(
  "attempts",
  {
    id: text("id").primaryKey(),
    delivery_id: text("delivery_id").notNull(),
    number: integer("number").notNull(),
    started_at: text("started_at").notNull(),
    duration_ms: integer("duration_ms").notNull(),
    status_code: integer("status_code"),
    response_headers: text("response_headers", { mode: "json" }).$type<Record<string, string>>(),
    response_body: text("response_body"),
    error: text("error"),
    /** What a preset did around the send (token fetched, caller found...). */
    note: text("note"),
  },
  (t) => [index("attempts_delivery").on(t.delivery_id, t.number)],
);

export type SourceRow = typeof sources.$inferSelect;
export type WebhookRow = typeof webhooks.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type CallRow = typeof calls.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type AttemptRow = typeof attempts.$inferSelect;

import type { QueueDepth } from "../domain/delivery.js";
import { Counter, exposeGauge, exposition, Histogram } from "./registry.js";

/** Why a delivery ended failed: at rendering, by its receiver's answers, or on the way to an attempt. */
const FAILURE_REASONS = ["render", "not_retryable", "retries_exhausted", "gone", "unsendable", "dead_letter"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * Refusals that read 0 from the start, so that increase() sees the first: a changed secret, a PBX over its
 * limit, a payload gone wrong, a gateway past its INGEST_MAX_PENDING or INGEST_MAX_BODY_BYTES (Node).
 */
const ALERTED_REFUSALS = ["unauthorized", "source_disabled", "rate_limited", "invalid_json", "invalid_request", "overloaded"];

const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const SECONDS_ATTEMPT = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// From the event's arrival to its delivery: sub-second when sent at once, hours or days across retries.
const SECONDS_END_TO_END = [0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 21_600, 86_400];

/** The gateway's metrics in this process (on Workers, this isolate): counters and histograms, recorded where things happen. */
export function createGatewayMetrics() {
  return {
    eventsIngested: new Counter("gateway_events_ingested_total", "Events committed at /ingest, by source kind and canonical type.", ["source_kind", "type"]),
    ingestRefused: new Counter(
      "gateway_ingest_refused_total",
      "Ingest requests refused (4xx, and 503 overloaded), by error code: unauthorized, rate_limited, invalid_json, invalid_request, overloaded...",
      ["code"],
      ALERTED_REFUSALS.map((code) => ({ code })),
    ),
    deliveriesCreated: new Counter("gateway_deliveries_created_total", "Deliveries created: an event matched a webhook rule (test sends and replays of missed events included)."),
    deliveriesDelivered: new Counter("gateway_deliveries_delivered_total", "Deliveries whose receiver accepted them."),
    deliveriesFailed: new Counter(
      "gateway_deliveries_failed_total",
      "Deliveries that ended failed, by reason.",
      ["reason"],
      FAILURE_REASONS.map((reason) => ({ reason })),
    ),
    attempts: new Counter("gateway_delivery_attempts_total", "Delivery attempts sent, by outcome and HTTP status class (none: no answer); a render failure is not one.", ["outcome", "status_class"]),
    ingestDuration: new Histogram("gateway_ingest_duration_seconds", "Time from an ingest request's arrival to its 202 answer.", SECONDS_FAST),
    eventToDelivered: new Histogram("gateway_event_to_delivered_seconds", "Time from an event's arrival to its delivery, retries included.", SECONDS_END_TO_END),
    eventsExpired: new Counter("gateway_events_expired_total", "Events deleted past RETENTION_DAYS, with their deliveries and attempts."),
    storageUnavailable: new Counter("gateway_storage_unavailable_total", "Requests answered 503 because the database could not take them now (full disk, I/O error, lock; libSQL server unreachable or failing; D1 overloaded or reset)."),
    attemptDuration: new Histogram("gateway_attempt_duration_seconds", "Duration of one delivery attempt, request to reply.", SECONDS_ATTEMPT),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/** `2xx`, `4xx`... of a reply's status, or `none` when there was no reply. */
export function statusClass(status: number | null): string {
  return status === null ? "none" : `${Math.floor(status / 100)}xx`;
}

/** How much of a bound on ingest is held now, and the bound. */
export interface Held {
  held: number;
  max: number;
}

/** What Node's ingest bounds hold now; each is absent where it does not exist (Workers), so that no zero looks real. */
export interface IngestHeld {
  /** Requests handled now, of INGEST_MAX_PENDING. */
  pending?: Held;
  /** Bytes of bodies held now, of INGEST_MAX_BODY_BYTES. */
  bodyBytes?: Held;
}

/**
 * The Prometheus exposition of the recorded metrics, what ingest holds now and the queue depth read now; null:
 * the database did not answer in time, so the gauges read from it are left out (a value from an earlier scrape
 * would look current) and `gateway_database_up` says so.
 */
export function metricsText(metrics: GatewayMetrics, ingest: IngestHeld, depth: QueueDepth | null): string {
  const up = exposeGauge({
    name: "gateway_database_up",
    help: "1 if this scrape read the database (the queue gauges), 0 if the read failed or did not answer in time: gateway_queue_depth and gateway_queue_due are then left out.",
    samples: [{ value: depth ? 1 : 0 }],
  });
  return exposition([...Object.values(metrics).map((metric) => metric.expose()), ...ingestGauges(ingest), up, ...(depth ? queueGauges(depth) : [])]);
}

/**
 * Each bound as two gauges, what is held and the bound (as `process_open_fds` and `process_max_fds`), rather
 * than one with a label: a sum over a label would add a limit to a usage. The ratio needs no number written in.
 */
function ingestGauges({ pending, bodyBytes }: IngestHeld): string[][] {
  return [
    ...(pending ? boundGauges("gateway_ingest_pending", "ingest requests being handled (body in, not yet answered)", "INGEST_MAX_PENDING", pending) : []),
    ...(bodyBytes ? boundGauges("gateway_ingest_body_bytes", "bytes of ingest bodies held (being received or handled)", "INGEST_MAX_BODY_BYTES", bodyBytes) : []),
  ];
}

/** `name` for what is held now, and the bound under its setting's name (`gateway_` and the setting in lower case). */
function boundGauges(name: string, what: string, setting: string, { held, max }: Held): string[][] {
  const maxName = `gateway_${setting.toLowerCase()}`;
  return [
    exposeGauge({ name, help: `The ${what} now, of at most ${maxName} (${setting}).`, samples: [{ value: held }] }),
    exposeGauge({ name: maxName, help: `${setting}: past this many ${what}, ingest answers 503 overloaded.`, samples: [{ value: max }] }),
  ];
}

function queueGauges(depth: QueueDepth): string[][] {
  const queue = exposeGauge({
    name: "gateway_queue_depth",
    help: "Deliveries in the outbox (all instances): pending (waiting for their time or a sender) and delivering.",
    samples: [
      { labels: { status: "pending" }, value: depth.pending },
      { labels: { status: "delivering" }, value: depth.delivering },
    ],
  });
  const due = exposeGauge({ name: "gateway_queue_due", help: "Pending deliveries whose time has come: the backlog.", samples: [{ value: depth.due }] });
  return [queue, due];
}

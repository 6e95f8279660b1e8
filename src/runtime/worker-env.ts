import type { D1Database, Queue } from "@cloudflare/workers-types";
import { z } from "zod";
import type { EnvVars } from "../config.js";

/**
 * A queue message: a wake-up call for one delivery. The delivery itself (and its schedule) lives in D1. The
 * consumer checks each one: another producer or another version of the gateway may have sent other bodies.
 */
export const deliveryMessageSchema = z.object({ delivery_id: z.string().min(1).max(64) });
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** The Worker's bindings (wrangler.toml) and its vars and secrets (README, Configuration). */
export type WorkerEnv = EnvVars & {
  DB: D1Database;
  DELIVERIES: Queue<DeliveryMessage>;
};

/** Where messages go once the consumer has failed on them `max_retries` times (wrangler.toml). */
export const DEAD_LETTER_QUEUE = "call-event-deliveries-dlq";

/**
 * The vars and secrets of the env as text, for the configuration schema shared with Node. A number is one too:
 * `RETENTION_DAYS = 7` in wrangler.toml's [vars] (a TOML number, not "7") reaches the Worker as a JSON number,
 * and was dropped here, so the default applied without a word.
 */
export function varsOf(env: WorkerEnv): Record<string, string | undefined> {
  const vars = Object.entries(env as Record<string, unknown>).flatMap(([name, value]) => {
    if (typeof value === "string") return [[name, value]];
    return typeof value === "number" ? [[name, String(value)]] : [];
  });
  return Object.fromEntries(vars);
}

import { z } from "zod";
import { DEFAULT_RATE_LIMITS, type RateLimits } from "./api/rate-limit.js";
import { parseWith } from "./domain/errors.js";
import { isLogLevel, type LogLevel } from "./log.js";

// The environment variables of DESIGN.md: the same names on Node and as Workers vars/secrets.
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z.string().min(1).default("file:./data/gateway.db"),
  DATABASE_AUTH_TOKEN: z.string().optional(),
  ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  LOG_LEVEL: z.string().refine(isLogLevel, "must be debug, info, warn, error or silent").default("info"),
  INGEST_RATE_PER_SECOND: z.coerce.number().positive().default(DEFAULT_RATE_LIMITS.ingest.perSecond),
  INGEST_BURST: z.coerce.number().int().min(1).default(DEFAULT_RATE_LIMITS.ingest.burst),
  ADMIN_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_RATE_LIMITS.adminAuthFailures.burst),
});

export interface GatewayConfig {
  port: number;
  host: string;
  databaseUrl: string;
  databaseAuthToken?: string;
  adminToken?: string;
  logLevel: LogLevel;
  rateLimits?: RateLimits;
}

export function configFromEnv(env: Record<string, string | undefined>): GatewayConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = parseWith(envSchema, present);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    databaseUrl: parsed.DATABASE_URL,
    databaseAuthToken: parsed.DATABASE_AUTH_TOKEN,
    adminToken: parsed.ADMIN_TOKEN,
    logLevel: parsed.LOG_LEVEL as LogLevel,
    rateLimits: {
      ingest: { perSecond: parsed.INGEST_RATE_PER_SECOND, burst: parsed.INGEST_BURST },
      adminAuthFailures: { perSecond: parsed.ADMIN_AUTH_FAILURES_PER_MINUTE / 60, burst: parsed.ADMIN_AUTH_FAILURES_PER_MINUTE },
    },
  };
}

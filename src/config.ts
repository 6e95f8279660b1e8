import { z } from "zod";
import { parseOutboundAllow, type OutboundAllow } from "./delivery/address-policy.js";
import { DEFAULT_RATE_LIMITS, type RateLimits } from "./api/rate-limit.js";
import { fieldProblems, GatewayError, problemsText } from "./domain/errors.js";
import { encryptionKeyProblem } from "./domain/secret-box.js";
import { isLogLevel, type LogLevel } from "./log.js";

/** Says "must be a number" for text that is not one (instead of "received NaN"); other checks keep their own words. */
const NOT_A_NUMBER = { error: (issue: { code: string }) => (issue.code === "invalid_type" ? "must be a number" : undefined) };

/** The embedded database `npm start` uses when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = "file:./data/gateway.db";

// The environment variables of DESIGN.md: the same names on Node and as Workers vars/secrets.
const envSchema = z.object({
  PORT: z.coerce.number(NOT_A_NUMBER).int().min(0).max(65_535).default(8787),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z.string().min(1).default(DEFAULT_DATABASE_URL),
  DATABASE_AUTH_TOKEN: z.string().optional(),
  ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  ENCRYPTION_KEY: z
    .string()
    .superRefine((value, ctx) => {
      const problem = encryptionKeyProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  LOG_LEVEL: z.string().refine(isLogLevel, "must be debug, info, warn, error or silent").default("info"),
  OUTBOUND_ALLOW: z
    .string()
    .default("")
    .transform((text, ctx) => {
      const { allow, invalid } = parseOutboundAllow(text);
      if (invalid.length) ctx.addIssue({ code: "custom", message: `not a CIDR, address or host name: ${invalid.join(", ")}` });
      return allow;
    }),
  INGEST_RATE_PER_SECOND: z.coerce.number(NOT_A_NUMBER).positive().default(DEFAULT_RATE_LIMITS.ingest.perSecond),
  INGEST_BURST: z.coerce.number(NOT_A_NUMBER).int().min(1).default(DEFAULT_RATE_LIMITS.ingest.burst),
  ADMIN_AUTH_FAILURES_PER_MINUTE: z.coerce.number(NOT_A_NUMBER).int().min(1).default(DEFAULT_RATE_LIMITS.adminAuthFailures.burst),
  RETENTION_DAYS: z.coerce.number(NOT_A_NUMBER).int("must be a whole number of days").min(0).default(30),
});

export interface GatewayConfig {
  port: number;
  host: string;
  databaseUrl: string;
  databaseAuthToken?: string;
  adminToken?: string;
  /** Bearer token `/metrics` asks for; open when unset. */
  metricsToken?: string;
  /** Keys for secrets at rest (see secret-box.ts); on Node, a key file in the data folder when unset. */
  encryptionKey?: string;
  logLevel: LogLevel;
  /** Private destinations outbound requests may reach all the same (OUTBOUND_ALLOW); nothing by default. */
  outboundAllow: OutboundAllow;
  rateLimits?: RateLimits;
  /** Days events, deliveries and attempts are kept (see store/retention.ts); 0 keeps them for ever. */
  retentionDays: number;
}

export function configFromEnv(env: Record<string, string | undefined>): GatewayConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const problems = fieldProblems(result.error);
    throw new GatewayError(400, "invalid_configuration", problemsText(problems), problems);
  }
  const parsed = result.data;
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    databaseUrl: parsed.DATABASE_URL,
    databaseAuthToken: parsed.DATABASE_AUTH_TOKEN,
    adminToken: parsed.ADMIN_TOKEN,
    metricsToken: parsed.METRICS_TOKEN,
    encryptionKey: parsed.ENCRYPTION_KEY,
    logLevel: parsed.LOG_LEVEL as LogLevel,
    outboundAllow: parsed.OUTBOUND_ALLOW,
    rateLimits: {
      ingest: { perSecond: parsed.INGEST_RATE_PER_SECOND, burst: parsed.INGEST_BURST },
      adminAuthFailures: { perSecond: parsed.ADMIN_AUTH_FAILURES_PER_MINUTE / 60, burst: parsed.ADMIN_AUTH_FAILURES_PER_MINUTE },
    },
    retentionDays: parsed.RETENTION_DAYS,
  };
}

import { z } from "zod";
import { parseOutboundAllow } from "./delivery/address-policy.js";
import { DEFAULT_INGEST_MAX_PENDING } from "./api/admission.js";
import { DEFAULT_INGEST_MAX_BODY_BYTES } from "./api/body-bytes.js";
import { INGEST_BODY_LIMIT } from "./api/request-body.js";
import { DEFAULT_RATE_LIMITS, type RateLimits } from "./api/rate-limit.js";
import { fieldProblems, GatewayError, problemsText } from "./domain/errors.js";
import { encryptionKeyProblem } from "./domain/secret-box.js";
import { logLevelSchema } from "./log.js";

/** Says "must be a number" for text that is not one (instead of "received NaN"); other checks keep their own words. */
const NOT_A_NUMBER = { error: (issue: { code: string }) => (issue.code === "invalid_type" ? "must be a number" : undefined) };

/**
 * A number written in decimal. JavaScript's Number() also reads a blank as 0 (`RETENTION_DAYS=" "` kept
 * everything for ever) and `0x1e`, `1e3` or `0b11` as numbers no one meant; any other text stays text, refused
 * as "must be a number".
 */
const decimal = <T extends z.ZodNumber>(schema: T) =>
  z.preprocess((value) => (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value), schema);

/** What a fraction is told where a count is wanted (zod's `int` failure would read as "must be a number" above). */
const WHOLE = "must be a whole number";

/** The embedded database `npm start` uses when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = "file:./data/gateway.db";

// The environment variables (README, Configuration): the same names on Node and as Workers vars/secrets.
const envSchema = z.object({
  PORT: decimal(z.number(NOT_A_NUMBER).int(WHOLE).min(0).max(65_535)).default(8787),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(/^(file|libsql|https?|wss?):/, "must start with file:, libsql:, http(s): or ws(s):")
    // `file:` alone (`file:$UNSET_VAR`) opened a temporary database, and `file::memory:` one in memory: the
    // gateway ran, and every event it acknowledged was gone at the next start.
    .refine((url) => !/^file:(\/\/)?(:memory:)?$/.test(url), "file: needs the database file's path, e.g. file:./data/gateway.db (a database in memory is lost at every stop)")
    .default(DEFAULT_DATABASE_URL),
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
  LOG_LEVEL: logLevelSchema.default("info"),
  OUTBOUND_ALLOW: z
    .string()
    .default("")
    .transform((text, ctx) => {
      const { allow, invalid } = parseOutboundAllow(text);
      if (invalid.length) ctx.addIssue({ code: "custom", message: `not a CIDR, address or host name: ${invalid.join(", ")}` });
      return allow;
    }),
  INGEST_RATE_PER_SECOND: decimal(z.number(NOT_A_NUMBER).positive()).default(DEFAULT_RATE_LIMITS.ingest.perSecond),
  INGEST_BURST: decimal(z.number(NOT_A_NUMBER).int(WHOLE).min(1)).default(DEFAULT_RATE_LIMITS.ingest.burst),
  INGEST_MAX_PENDING: decimal(z.number(NOT_A_NUMBER).int(WHOLE).min(1)).default(DEFAULT_INGEST_MAX_PENDING),
  // At least one body at the limit, or a request the gateway takes when idle would be told to retry for ever.
  INGEST_MAX_BODY_BYTES: decimal(z.number(NOT_A_NUMBER).int(WHOLE).min(INGEST_BODY_LIMIT)).default(DEFAULT_INGEST_MAX_BODY_BYTES),
  ADMIN_AUTH_FAILURES_PER_MINUTE: decimal(z.number(NOT_A_NUMBER).int(WHOLE).min(1)).default(DEFAULT_RATE_LIMITS.adminAuthFailures.burst),
  RETENTION_DAYS: decimal(z.number(NOT_A_NUMBER).int("must be a whole number of days").min(0)).default(30),
  TRUST_PROXY_HOPS: decimal(z.number(NOT_A_NUMBER).int(WHOLE).min(0).max(10)).default(0),
});

/** The environment variables the gateway reads, by name (on Workers: its vars and secrets). */
export type EnvVars = Partial<Record<keyof typeof envSchema.shape, string>>;

/** The gateway's settings, read from the environment by `envSchema`. */
const configSchema = envSchema.transform((env) => ({
  port: env.PORT,
  host: env.HOST,
  databaseUrl: env.DATABASE_URL,
  databaseAuthToken: env.DATABASE_AUTH_TOKEN,
  adminToken: env.ADMIN_TOKEN,
  /** Bearer token `/metrics` asks for; open when unset. */
  metricsToken: env.METRICS_TOKEN,
  /** Keys for secrets at rest (see secret-box.ts); on Node, a key file in the data folder when unset. */
  encryptionKey: env.ENCRYPTION_KEY,
  logLevel: env.LOG_LEVEL,
  /** Private destinations outbound requests may reach all the same (OUTBOUND_ALLOW); nothing by default. */
  outboundAllow: env.OUTBOUND_ALLOW,
  rateLimits: {
    ingest: { perSecond: env.INGEST_RATE_PER_SECOND, burst: env.INGEST_BURST },
    adminAuthFailures: { perSecond: env.ADMIN_AUTH_FAILURES_PER_MINUTE / 60, burst: env.ADMIN_AUTH_FAILURES_PER_MINUTE },
  } satisfies RateLimits,
  /** Ingest requests a Node gateway handles at once before it answers 503 `overloaded` (not applied on Workers). */
  ingestMaxPending: env.INGEST_MAX_PENDING,
  /** Bytes of ingest bodies a Node gateway holds at once before it answers 503 `overloaded` (not applied on Workers). */
  ingestMaxBodyBytes: env.INGEST_MAX_BODY_BYTES,
  /** Days events, deliveries and attempts are kept (see store/retention.ts); 0 keeps them for ever. */
  retentionDays: env.RETENTION_DAYS,
  /** Reverse proxies in front of a Node gateway, whose X-Forwarded-For names the client (0: none; Workers read CF-Connecting-IP). */
  trustProxyHops: env.TRUST_PROXY_HOPS,
}));

export type GatewayConfig = z.output<typeof configSchema>;

/** The names of the settings, as the environment gives them. */
const SETTING_NAMES = Object.keys(envSchema.shape);

/** Edits (insert, delete, replace a letter) between two names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/** The setting a name that is not one was likely meant to be: one edit away, or sharing its first word (`INGEST_`). */
function meantSetting(name: string): string | undefined {
  const upper = name.toUpperCase();
  const closest = SETTING_NAMES.map((setting) => ({ setting, edits: editDistance(upper, setting) })).sort((a, b) => a.edits - b.edits)[0];
  const firstWord = (text: string) => /^([A-Z]+_)/.exec(text)?.[1];
  const sameFamily = SETTING_NAMES.some((setting) => firstWord(setting) !== undefined && firstWord(setting) === firstWord(upper));
  // Short names one edit away are too many (HOME, HOST): only a longer one, or one of our families.
  if (closest.edits === 0 || (closest.edits === 1 && upper.length >= 6) || sameFamily) return closest.setting;
  return undefined;
}

/**
 * Variables that look like a setting but are not one (`RETENTION_DAY`, `ingest_burst`), each with the setting
 * it was likely meant to be: unread, they would leave that setting at its default without a word.
 */
export function misspelledSettings(env: Record<string, string | undefined>): Array<{ name: string; meant: string }> {
  return Object.keys(env)
    .filter((name) => !SETTING_NAMES.includes(name))
    .flatMap((name) => {
      const meant = meantSetting(name);
      return meant ? [{ name, meant }] : [];
    });
}

export function configFromEnv(env: Record<string, string | undefined>): GatewayConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const problems = fieldProblems(result.error);
    throw new GatewayError(400, "invalid_configuration", problemsText(problems), problems);
  }
  return result.data;
}

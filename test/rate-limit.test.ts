import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../src/api/rate-limit.js";
import { configFromEnv } from "../src/config.js";
import { callEvent } from "./support/events.js";
import { ADMIN_TOKEN, createSource, ingest, startGateway, type TestGateway } from "./support/gateway.js";

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

const eventCount = async () => (await gw!.api("GET", "/api/events?limit=200")).body.data.length;
const withToken = (token: string) => gw!.send("/api/sources", { headers: { authorization: `Bearer ${token}` } });

describe("ingest rate limit per source", () => {
  it("answers 429 with Retry-After once a source's burst is spent, stores nothing, and refills with time", async () => {
    gw = await startGateway({ rateLimits: { ...DEFAULT_RATE_LIMITS, ingest: { perSecond: 2, burst: 3 } } });
    const busy = await createSource(gw, "busy");
    const quiet = await createSource(gw, "quiet");

    // Unsigned requests are refused before they count: a stranger cannot spend a PBX's allowance.
    for (let i = 0; i < 5; i++) expect((await ingest(gw, { ...busy, secret: "wrong-secret" }, callEvent())).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await ingest(gw, busy, callEvent({ uniqueid: `burst-${i}` }))).status).toBe(202);

    const refused = await ingest(gw, busy, callEvent({ uniqueid: "over" }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.body.error).toMatchObject({ code: "rate_limited", details: { retry_after_seconds: 1 } });
    expect(refused.body.error.message).toContain(busy.id);
    expect(await eventCount()).toBe(3);

    expect((await ingest(gw, quiet, callEvent({ uniqueid: "other source" }))).status).toBe(202);
    gw.clock.advance(500);
    expect((await ingest(gw, busy, callEvent({ uniqueid: "refilled" }))).status).toBe(202);
    expect((await ingest(gw, busy, callEvent({ uniqueid: "empty again" }))).status).toBe(429);
    expect(await eventCount()).toBe(5);
  });
});

describe("admin auth failures per client address", () => {
  it("answers 429 after ten wrong tokens a minute, even to the right token, until a token refills", async () => {
    gw = await startGateway();
    // A missing header is not a guess: it does not count.
    for (let i = 0; i < 20; i++) expect((await gw.send("/api/sources", {})).status).toBe(401);
    for (let i = 0; i < 10; i++) expect((await withToken(`wrong-token-${i}`)).status).toBe(401);

    const limited = await withToken("wrong-token-10");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("6");
    expect(limited.body.error.code).toBe("rate_limited");
    expect((await withToken(ADMIN_TOKEN)).status).toBe(429);

    gw.clock.advance(6_000);
    expect((await withToken(ADMIN_TOKEN)).status).toBe(200);
    expect((await withToken("wrong-token-11")).status).toBe(401);
    expect((await withToken(ADMIN_TOKEN)).status).toBe(429);
  });
});

describe("rate limit configuration", () => {
  it("reads the limits from the environment and refuses nonsense naming the variable", () => {
    const limits = configFromEnv({ INGEST_RATE_PER_SECOND: "50", INGEST_BURST: "500", ADMIN_AUTH_FAILURES_PER_MINUTE: "30" }).rateLimits;
    expect(limits).toEqual({ ingest: { perSecond: 50, burst: 500 }, adminAuthFailures: { perSecond: 0.5, burst: 30 } });
    expect(configFromEnv({}).rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    expect(() => configFromEnv({ INGEST_BURST: "0" })).toThrow(/INGEST_BURST/);
    // A fraction is a number: it is said to be the wrong kind of number.
    expect(() => configFromEnv({ INGEST_BURST: "1.5" })).toThrow(/^INGEST_BURST: must be a whole number$/);
    expect(() => configFromEnv({ ADMIN_AUTH_FAILURES_PER_MINUTE: "2.5" })).toThrow(/^ADMIN_AUTH_FAILURES_PER_MINUTE: must be a whole number$/);
    expect(() => configFromEnv({ PORT: "80.5" })).toThrow(/^PORT: must be a whole number$/);
    expect(() => configFromEnv({ PORT: "eighty" })).toThrow(/^PORT: must be a number$/);
    // Before: JavaScript's reading of numbers, a blank as 0 (kept every event for ever) and hex or an exponent as numbers.
    expect(() => configFromEnv({ RETENTION_DAYS: " " })).toThrow(/^RETENTION_DAYS: must be a number$/);
    expect(() => configFromEnv({ PORT: "0x10" })).toThrow(/^PORT: must be a number$/);
    expect(() => configFromEnv({ INGEST_MAX_PENDING: "1e3" })).toThrow(/^INGEST_MAX_PENDING: must be a number$/);
    expect(configFromEnv({ PORT: " 8788 ", INGEST_RATE_PER_SECOND: "0.5" })).toMatchObject({ port: 8788, rateLimits: { ingest: { perSecond: 0.5 } } });
    expect(configFromEnv({}).trustProxyHops).toBe(0);
    expect(configFromEnv({ TRUST_PROXY_HOPS: "2" }).trustProxyHops).toBe(2);
    expect(() => configFromEnv({ TRUST_PROXY_HOPS: "-1" })).toThrow(/^TRUST_PROXY_HOPS: /);
  });
});

import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_PAYLOADS } from "../src/sources/samples.js";
import { callEvent, CALL_END } from "./support/events.js";
import { ADMIN_TOKEN, createSource, createWebhook, startGateway, type Answer, type TestGateway } from "./support/gateway.js";
import {
  brokenJson,
  EXPRESSION_INJECTIONS,
  hostileJson,
  hostileValue,
  mutate,
  prng,
  TEMPLATE_INJECTIONS,
  type Random,
} from "./support/hostile.js";
import { Receiver } from "./support/receiver.js";

// Thousands of generated malformed and adversarial requests at every public endpoint, from one seed:
// never a 5xx, never a crash, never a partial record, never a polluted prototype.

const SEED = 20_261_120;
const KINDS = ["canonical", "wildix", "voipcloud", "voipappz"] as const;
type Kind = (typeof KINDS)[number];

interface HostileRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

let gw: TestGateway;
let receiver: Receiver;
let sources: Record<Kind, { id: string; secret: string }>;
let victimSource: { id: string; secret: string };
let victimWebhookId: string;
let runawayWebhookId: string;
const problems: string[] = [];
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

/** Rows of every table a request can add to; the dispatcher only updates rows, so refused requests must leave these alone. */
async function rowCounts(): Promise<string> {
  const tables = ["sources", "webhooks", "events", "deliveries", "calls"];
  const [counts] = await gw.sql(`select ${tables.map((t) => `(select count(*) from ${t}) as ${t}`).join(", ")}`);
  return JSON.stringify(counts);
}

const describeRequest = (r: HostileRequest) => `${r.method} ${r.path.slice(0, 120)} ${JSON.stringify((r.body ?? "").slice(0, 160))}`;

/** Row counts since the last accepted request: refused ones leave them alone, so they are counted once per probe. */
let before: string | undefined;

/** Sends one hostile request and records what is wrong with the answer; returns it for follow-up. */
async function probe(request: HostileRequest): Promise<Answer | null> {
  before ??= await rowCounts();
  let answer: Answer;
  try {
    answer = await gw.send(request.path, { method: request.method, headers: request.headers, body: request.body });
  } catch (error) {
    problems.push(`no answer (${String(error)}): ${describeRequest(request)}`);
    return null;
  }
  if (answer.status >= 500) problems.push(`${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}: ${describeRequest(request)}`);
  if (answer.status >= 400) {
    const error = answer.body?.error;
    if (typeof error?.code !== "string" || typeof error?.message !== "string") {
      problems.push(`${answer.status} without the error envelope: ${describeRequest(request)}`);
    }
    const after = await rowCounts();
    if (after !== before) problems.push(`refused with ${answer.status} but stored rows ${before} -> ${after}: ${describeRequest(request)}`);
    before = after;
  } else {
    before = undefined; // accepted: it, and what the test does after it, may add or remove rows
  }
  return answer;
}

const admin = (method: string, path: string, body?: string, contentType = "application/json"): HostileRequest => ({
  method,
  path,
  headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": contentType }) },
  body,
});

/** A body from a valid document: mutated, broken JSON text, or (rarely) a wrong content type. */
function hostileBody(valid: unknown, random: Random): { body: string; contentType: string } {
  const contentType = random.chance(0.05) ? random.pick(["text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16"]) : "application/json";
  const body = random.chance(0.2) ? brokenJson(JSON.stringify(valid), random) : hostileJson(mutate(valid, random));
  return { body, contentType };
}

/** Outbound requests stay on loopback: a URL that could leave it is pointed back at the receiver. */
function keepUrlLocal(doc: unknown): unknown {
  if (doc === null || typeof doc !== "object") return doc;
  for (const [key, value] of Object.entries(doc)) {
    if (key === "url" && typeof value === "string" && !value.startsWith(receiver.url) && /https?:|\{\{/i.test(value)) {
      Object.defineProperty(doc, key, { value: `${receiver.url}/hook`, enumerable: true, writable: true, configurable: true });
    } else keepUrlLocal(value);
  }
  return doc;
}

function signed(kind: Kind, body: string, secret: string, random: Random): { path: string; headers: Record<string, string> } {
  const hmac = createHmac("sha256", secret).update(body).digest("hex");
  const id = sources[kind].id;
  switch (kind) {
    case "wildix":
      return { path: `/ingest/${id}`, headers: { "x-signature": hmac } };
    case "voipcloud":
      return { path: `/ingest/${id}`, headers: { "x-pbx-token": secret } };
    case "voipappz":
      return random.chance(0.5)
        ? { path: `/ingest/${id}?token=${encodeURIComponent(secret)}`, headers: {} }
        : { path: `/ingest/${id}`, headers: { authorization: `Bearer ${secret}` } };
    default:
      return { path: `/ingest/${id}`, headers: random.chance(0.5) ? { "x-signature": hmac } : { authorization: `Bearer ${secret}` } };
  }
}

const BAD_SIGNATURES = ["", "0", "deadbeef", "x".repeat(5_000), "Bearer", "sha256=", "\t", "%00"];

/** One ingest request for a source kind: signed or not, with a payload mutated or broken. */
function ingestRequest(kind: Kind, random: Random): HostileRequest {
  const sample = kind === "canonical" && random.chance(0.2) ? [CALL_END, CALL_END] : SAMPLE_PAYLOADS[kind].payload;
  const { body, contentType } = hostileBody(sample, random);
  const secret = random.chance(0.85) ? sources[kind].secret : random.pick([sources.canonical.secret, "wrong-secret-123"]);
  const { path, headers } = signed(kind, body, secret, random);
  if (random.chance(0.05)) for (const name of Object.keys(headers)) headers[name] = random.pick(BAD_SIGNATURES);
  return { method: "POST", path, headers: { "content-type": contentType, ...headers }, body };
}

const PATH_IDS = ["", "x", "%", "%zz", "%ff%fe", "..%2f..%2f", "%00", encodeURIComponent("\u0000"), encodeURIComponent("💥".repeat(200)), "a".repeat(5_000), "__proto__", "constructor", encodeURIComponent("' OR 1=1 --")];
const QUERY_VALUES = ["", "%", "%E0%A4%A", "0", "-1", "1e400", "201", "NaN", "a".repeat(3_000), "__proto__", "%00", "%ED%A0%BD", "call.end", "x&limit=0&limit=9"];
const LISTS: Record<string, string[]> = {
  "/api/events": ["type", "source_id", "uniqueid", "limit", "cursor", "__proto__", "constructor"],
  "/api/deliveries": ["webhook_id", "event_id", "status", "limit", "cursor", "__proto__"],
  "/api/sources": ["limit"],
  "/api/webhooks": ["limit"],
};

function queryString(names: string[], random: Random): string {
  const parts = Array.from({ length: 1 + random.int(3) }, () => `${random.pick(names)}=${random.pick(QUERY_VALUES)}`);
  return `?${parts.join("&")}`;
}

const VALID_RULE = { name: "hostile", events: ["call.end"], url: "", body_template: '{"id": "{{uniqueid}}"}', enabled: false };
const VALID_PARAMS_RULE = { name: "hostile", events: ["call.end", "call.start"], url: "", params: { id: "uniqueid", who: "caller.number" }, filter: "direction = 'inbound'", enabled: false };

/** A rule for create, patch and preview: valid fields with hostile ones mixed in, templates and expressions among them. */
function hostileRule(random: Random): unknown {
  const base = { ...random.pick([VALID_RULE, VALID_PARAMS_RULE]), url: `${receiver.url}/hook` };
  if (random.chance(0.3)) {
    const field = random.pick(["body_template", "filter", "params", "url", "headers"]);
    const value = field === "body_template" || field === "url" ? random.pick(TEMPLATE_INJECTIONS) : random.pick(EXPRESSION_INJECTIONS);
    const rule: Record<string, unknown> = { ...base, [field]: field === "headers" ? { "X-T": random.pick(TEMPLATE_INJECTIONS) } : value };
    if (field === "body_template") delete rule.params;
    if (field === "params") delete rule.body_template;
    return rule;
  }
  return mutate(base, random);
}

function adminRequest(random: Random): HostileRequest {
  const choice = random.int(12);
  const withBody = (method: string, path: string, valid: unknown, keepLocal: boolean) => {
    if (random.chance(0.2)) {
      const { body, contentType } = hostileBody(valid, random);
      return admin(method, path, body, contentType);
    }
    const doc = mutate(valid, random);
    return admin(method, path, hostileJson(keepLocal ? keepUrlLocal(doc) : doc));
  };
  switch (choice) {
    case 0:
      return withBody("POST", "/api/sources", { name: "pbx", kind: random.pick(KINDS), secret: "s3cret-value" }, false);
    case 1:
      return withBody("PATCH", `/api/sources/${victimSource.id}`, { name: "victim", enabled: true, secret: "another-secret" }, false);
    case 2:
      return admin("POST", "/api/webhooks", hostileJson(keepUrlLocal(hostileRule(random))));
    case 3:
      return admin("PATCH", `/api/webhooks/${victimWebhookId}`, hostileJson(keepUrlLocal(hostileRule(random))));
    case 4:
      return withBody("POST", "/api/preview", { webhook: hostileRule(random), event: random.chance(0.5) ? callEvent() : undefined, sample: random.chance(0.3) ? random.pick(KINDS) : undefined }, false);
    case 5:
      return withBody("POST", `/api/webhooks/${random.pick([victimWebhookId, runawayWebhookId])}/preview`, { event: callEvent() }, false);
    case 6:
      return withBody("POST", `/api/webhooks/${victimWebhookId}/test`, random.chance(0.5) ? { event: callEvent() } : { sample: random.pick(KINDS) }, true);
    case 7:
      return admin("POST", `/api/deliveries/${random.pick(PATH_IDS)}/retry`, random.chance(0.5) ? hostileJson(hostileValue(random)) : undefined);
    case 8: {
      const list = random.pick(Object.keys(LISTS));
      return admin("GET", list + queryString(LISTS[list], random));
    }
    case 9: {
      const resource = random.pick(["sources", "webhooks", "events", "deliveries", "presets"]);
      const method = random.pick(["GET", "DELETE", "PATCH"]);
      return admin(method, `/api/${resource}/${random.pick(PATH_IDS)}`, method === "PATCH" ? "{}" : undefined);
    }
    case 10:
      return {
        method: random.pick(["GET", "POST"]),
        path: random.pick(["/api/sources", "/api/webhooks", "/api/preview"]),
        headers: { authorization: random.pick(["", "Bearer", "Bearer wrong-token", `Basic ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}x`, `Bearer ${"t".repeat(8_000)}`]) },
      };
    default:
      return withBody("POST", `/api/webhooks/${victimWebhookId}/preview`, { event_id: "evt_missing", sample: random.pick(KINDS), event: CALL_END }, false);
  }
}

beforeAll(async () => {
  gw = await startGateway({
    // Thousands of commits need not wait for fsync (Node).
    onRamDisk: true,
    // Thousands of requests from one address and source: the limits are tested in rate-limit.test.ts.
    rateLimits: { ingest: { perSecond: 1e6, burst: 1e6 }, adminAuthFailures: { perSecond: 1e6 / 60, burst: 1e6 } },
  });
  receiver = await new Receiver().start();
  sources = Object.fromEntries(await Promise.all(KINDS.map(async (kind) => [kind, await createSource(gw, kind, kind)]))) as typeof sources;
  victimSource = await createSource(gw, "victim");
  const all = ["call.start", "call.ringing", "call.answer", "call.update", "call.end", "call.report", "ivr.start", "ivr.end", "voicemail", "recording"];
  await createWebhook(gw, { name: "catch-all", events: all, url: `${receiver.url}/all` });
  // A rule whose every render recurses past JSONata's depth limit: each of its deliveries is a recorded render failure.
  runawayWebhookId = (await createWebhook(gw, { name: "runaway", events: all, url: `${receiver.url}/runaway`, params: "($f := function($n) { 1 + $f($n + 1) }; $f(0))" })).id;
  victimWebhookId = (await createWebhook(gw, { ...VALID_RULE, url: `${receiver.url}/victim` })).id;
});

afterAll(async () => {
  await gw?.stop();
  await receiver?.stop();
});

describe("hostile input", () => {
  it("ingest: every source kind, signed and not, answers malformed and adversarial payloads below 500 and stores all or nothing", async () => {
    const random = prng(SEED);
    for (const kind of KINDS) {
      for (let i = 0; i < 250; i++) {
        const request = ingestRequest(kind, random);
        const answer = await probe(request);
        if (answer?.status !== 202) continue;
        // Acknowledged: each event is stored with the deliveries it announced.
        for (const accepted of answer.body.events ?? [answer.body]) {
          const [{ n }] = await gw.sql("select count(*) as n from deliveries where event_id = ?", [accepted.event_id]);
          if (Number(n) !== accepted.deliveries) problems.push(`event ${accepted.event_id} announced ${accepted.deliveries} deliveries, stored ${n}`);
        }
      }
      const oversized = { method: "POST", ...signed(kind, "x", sources[kind].secret, random) };
      const tooBig = await probe({ ...oversized, headers: { ...oversized.headers, "content-type": "application/json" }, body: `{"a":"${"x".repeat(2 * 1024 * 1024)}"}` });
      expect(tooBig?.status).toBe(413);
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it("admin API: bodies, path ids, query strings and credentials answer below 500 and refused ones store nothing", async () => {
    const random = prng(SEED + 1);
    for (let i = 0; i < 1_500; i++) {
      const request = adminRequest(random);
      const answer = await probe(request);
      if (!answer || answer.status >= 300) continue;
      // Keep the rule set stable: new rules go, the victim rule stays disabled (its filter may be hostile).
      if (request.method === "POST" && request.path === "/api/webhooks") await gw.api("DELETE", `/api/webhooks/${answer.body.id}`);
      if (request.path === `/api/webhooks/${victimWebhookId}` && request.method === "PATCH") await gw.api("PATCH", request.path, { enabled: false });
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it("leaves no event without its deliveries, records runaway renders as failures, keeps serving and the prototype clean", async () => {
    await gw.settle();
    // Events of a type no source maps are kept for the record and match no rule; every other one has its deliveries.
    const orphans = await gw.sql("select id, type from events e where type != 'unmapped' and not exists (select 1 from deliveries d where d.event_id = e.id)");
    expect(orphans).toEqual([]);
    const runaway = await gw.sql("select status, last_error from deliveries where webhook_id = ?", [runawayWebhookId]);
    expect(runaway.length).toBeGreaterThan(0);
    for (const row of runaway) {
      expect(row.status).toBe("failed");
      expect(String(row.last_error)).toMatch(/^render failed: /);
    }
    expect((await gw.send("/health", {})).body).toEqual({ status: "ok", database: "ok" });
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

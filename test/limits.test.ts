import { connect } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_JSON_DEPTH } from "../src/api/json-body.js";
import { evaluateExpression, EXPRESSION_LIMITS } from "../src/render/jsonata.js";
import { MAX_FUNCTION_TEXT, MAX_PAD_WIDTH } from "../src/render/jsonata-functions.js";
import { REQUEST_LIMITS } from "../src/render/request.js";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway, type TestGateway } from "./support/gateway.js";
import { Receiver } from "./support/receiver.js";

let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway();
});
afterEach(async () => {
  await gw.stop();
});

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const URL_OF_NOWHERE = "http://127.0.0.1:9/hook";
/** A parameter just over the body limit, in pieces no wider than `$pad` allows. */
const OVER_BODY_LIMIT = `$join([0..${REQUEST_LIMITS.maxBodyBytes / MAX_PAD_WIDTH}].$pad('x', ${MAX_PAD_WIDTH}))`;

describe("request body nesting", () => {
  it("refuses ingest and admin bodies nested deeper than the limit with 400, storing nothing", async () => {
    const source = await createSource(gw);
    const deep = `{"type": "call.end", "tags": ${nested(MAX_JSON_DEPTH)}}`;
    const refused = await gw.send(`/ingest/${source.id}`, {
      method: "POST",
      headers: { authorization: `Bearer ${source.secret}`, "content-type": "application/json" },
      body: deep,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("too_deep");
    expect(refused.body.error.message).toContain(`more than ${MAX_JSON_DEPTH} deep`);
    expect((await gw.api("GET", "/api/events")).body.data).toEqual([]);

    const admin = await gw.send("/api/sources", {
      method: "POST",
      headers: { authorization: `Bearer test-admin-token-0123456789`, "content-type": "application/json" },
      body: `{"name": "x", "kind": "canonical", "extra": ${nested(10_000)}}`,
    });
    expect(admin.status).toBe(400);
    expect(admin.body.error.code).toBe("too_deep");
    expect((await gw.api("GET", "/api/sources")).body.data).toHaveLength(1);
  });

  it("takes brackets inside strings for text", async () => {
    const source = await createSource(gw);
    const answer = await ingest(gw, source, callEvent({ tags: ["[".repeat(500)] }));
    expect(answer.status).toBe(202);
  });
});

describe("rendered request size", () => {
  const preview = (webhook: Record<string, unknown>) => gw.api("POST", "/api/preview", { webhook: { url: URL_OF_NOWHERE, ...webhook } });

  it("answers a preview whose params render too much or too deep with 422 naming params", async () => {
    const big = await preview({ params: { padding: OVER_BODY_LIMIT } });
    expect(big.status).toBe(422);
    expect(big.body.error.details).toEqual([{ field: "params", message: `the rendered body is larger than ${REQUEST_LIMITS.maxBodyBytes} bytes` }]);
    // Bytes, as stored: two-byte characters reach the limit at half as many characters.
    const accents = await preview({ params: { text: `$join([0..${Math.ceil((0.6 * REQUEST_LIMITS.maxBodyBytes) / MAX_PAD_WIDTH)}].$pad('é', ${MAX_PAD_WIDTH}, 'é'))` } });
    expect(accents.status).toBe(422);
    expect(accents.body.error.details[0].message).toBe(`the rendered body is larger than ${REQUEST_LIMITS.maxBodyBytes} bytes`);

    const deep = await preview({ params: "{'deep': $reduce([1..5000], function($a, $b) { {'a': $a} }, {})}" });
    expect(deep.status).toBe(422);
    expect(deep.body.error.details[0].field).toBe("params");

    const longUrl = await preview({ method: "GET", params: { q: `$join([0..${REQUEST_LIMITS.maxUrl / MAX_PAD_WIDTH}].$pad('q', ${MAX_PAD_WIDTH}))` } });
    expect(longUrl.status).toBe(422);
    expect(longUrl.body.error.details[0]).toEqual({ field: "params", message: `the rendered URL is longer than ${REQUEST_LIMITS.maxUrl} characters` });
  });

  it("refuses a $pad wider than its limit, which would build a huge text in one uninterruptible step", async () => {
    const wide = await preview({ params: { padding: "$pad('', 500000000)" } });
    expect(wide.status).toBe(422);
    expect(wide.body.error.details[0]).toMatchObject({ field: "params.padding", message: expect.stringContaining(`$pad: a width of 500000000 is beyond the ${MAX_PAD_WIDTH} allowed`) });
    const fine = await preview({ params: { id: `$pad(uniqueid, -20, '0')`, wide: `$pad('x', ${-MAX_PAD_WIDTH})` } });
    expect(fine.status).toBe(200);
    expect(JSON.parse(fine.body.body).id).toBe("000000010000000.1000");
  });

  it("records an oversized render at ingest as a failed delivery, never sending it", async () => {
    const source = await createSource(gw);
    await createWebhook(gw, { url: URL_OF_NOWHERE, params: { padding: OVER_BODY_LIMIT } });
    const answer = await ingest(gw, source, callEvent());
    expect(answer.status).toBe(202);
    const [delivery] = await deliveriesOf(gw, answer.body.event_id);
    expect(delivery.status).toBe("failed");
    expect(delivery.last_error).toContain("params: the rendered body is larger than");
    expect(delivery.attempts).toHaveLength(1);
  });
});

describe("expression time limit", () => {
  /** Tens of milliseconds of JSONata work: far inside the limit alone, past it if charged for a dozen like it. */
  const SLOW = "$sum([1..10000].($ * 2))";

  it("charges each evaluation its own time: rules that preview in time render in time together at ingest", async () => {
    const receiver = await new Receiver().start();
    try {
      // Enough rules that their evaluations together take three times the limit on this machine (once warm).
      await evaluateExpression(SLOW, {});
      const started = performance.now();
      await evaluateExpression(SLOW, {});
      const rules = Math.min(100, Math.ceil((3 * EXPRESSION_LIMITS.timeoutMs) / (performance.now() - started)));
      const source = await createSource(gw);
      for (let i = 0; i < rules; i++) {
        await createWebhook(gw, { url: `${receiver.url}/slow`, filter: `${SLOW} > 0`, params: { total: SLOW, phone: "src" } });
      }
      const answer = await ingest(gw, source, callEvent());
      expect(answer.status).toBe(202);
      await gw.settle();
      const deliveries = await deliveriesOf(gw, answer.body.event_id);
      expect(deliveries.map((d: { last_error: string | null }) => d.last_error)).toEqual(Array(rules).fill(null));
      expect(receiver.requests).toHaveLength(rules);
      expect(JSON.parse(receiver.requests[0].body)).toMatchObject({ total: 100010000 });
    } finally {
      await receiver.stop();
    }
  });
});

describe("JSONata text functions", () => {
  const preview = (params: Record<string, string>) => gw.api("POST", "/api/preview", { webhook: { url: URL_OF_NOWHERE, params } });
  /** A lambda that doubles a text n times: `&` joins texts in no time, whatever their length. */
  const doubled = (n: number) => `($d := function($s, $n) { $n = 0 ? $s : $d($s & $s, $n - 1) }; $d("a", ${n}))`;

  it("refuse a text longer than a request may carry, which one built-in call would read whole, uninterruptibly", async () => {
    const upper = await preview({ x: `$uppercase(${doubled(24)})` });
    expect(upper.status).toBe(422);
    expect(upper.body.error.details).toEqual([{ field: "params.x", message: expect.stringContaining(`$uppercase: a text of more than ${MAX_FUNCTION_TEXT} characters`) }]);
    // A huge text as the value itself is refused before anything serializes it.
    const value = await preview({ x: doubled(28) });
    expect(value.status).toBe(422);
    expect(value.body.error.details).toEqual([{ field: "params.x", message: `the value is longer than ${MAX_FUNCTION_TEXT} characters, more than a request may carry` }]);
    // Texts of ordinary size pass.
    expect((await preview({ x: `$uppercase(${doubled(10)})` })).body.body).toBe(JSON.stringify({ x: "A".repeat(1024) }));
  });

  it("measure texts however deep in arrays and objects, and keep JSONata's own behaviour otherwise", async () => {
    // A huge text behind many small values is measured all the same.
    const hidden = await preview({ x: `$length($string({'b': [1..99999], 'a': ${doubled(24)}}))` });
    expect(hidden.status).toBe(422);
    expect(hidden.body.error.details[0].message).toContain(`$string: a text of more than ${MAX_FUNCTION_TEXT} characters`);
    // Large arrays of small values are fine (and do not overflow the stack): the PBX's payload, say.
    const ones = Array(150_000).fill(1);
    const numbers = await gw.api("POST", "/api/preview", {
      webhook: { url: URL_OF_NOWHERE, params: { n: "$length($string(raw.ones))" } },
      event: { type: "call.end", uniqueid: "1.1", ones },
    });
    expect(numbers.status, JSON.stringify(numbers.body)).toBe(200);
    expect(JSON.parse(numbers.body.body)).toEqual({ n: JSON.stringify(ones).length });
    // Partial application reads the functions' parameters as JSONata's own.
    const partial = await preview({
      map: "$map(['abc', 'def'], $substring(?, 0, 2))",
      chain: "'hello' ~> $substringBefore(?, 'l')",
      pad: "($p := $pad(?, 4, '0'); $p('1'))",
    });
    expect(partial.status, JSON.stringify(partial.body)).toBe(200);
    expect(JSON.parse(partial.body.body)).toEqual({ map: ["ab", "de"], chain: "he", pad: "1000" });
  });

  it("withhold $eval, whose text would escape the checks made when a rule is saved", async () => {
    const evaluated = await preview({ x: `$eval("$match('aaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a+)+$/)")` });
    expect(evaluated.status).toBe(422);
    expect(evaluated.body.error.details[0].message).toContain("$eval is not available");
  });
});

describe("expression step limit", () => {
  it("ends a runaway expression by its steps where the clock stands still during CPU work, as on a deployed Worker", async () => {
    const runaway = "$sum([1..100000].($sum([1..1000].($ * 2))))";
    const frozen = vi.spyOn(Date, "now").mockReturnValue(Date.UTC(2026, 10, 22));
    try {
      await expect(evaluateExpression(runaway, {})).rejects.toThrow(`Evaluation took more than ${EXPRESSION_LIMITS.maxSteps} steps`);
    } finally {
      frozen.mockRestore();
    }
    // The budget is the evaluation's own: the next one starts afresh, and a long but finite one passes.
    expect(await evaluateExpression("$sum([1..50000])", {})).toBe(1250025000);
  });
});

describe("slow clients", () => {
  it("answers 408 to a request still not all sent when the request timeout passes, and closes the connection", async () => {
    await gw.stop();
    gw = await startGateway({ requestTimeoutMs: 300 });
    const source = await createSource(gw);
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // The head and part of the body, then nothing: a client trickling its request in (or gone quiet).
    socket.write(`POST /ingest/${source.id} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":`);
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect((await gw.api("GET", "/api/events")).body.data).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { evaluateExpression, MAX_REGEX_INPUT } from "../src/render/jsonata.js";
import { MAX_REGEX_LENGTH, regexHazard } from "../src/render/regex-safety.js";
import { callEvent } from "./support/events.js";
import { createSource, createWebhook, ingest } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";

// Patterns a rule may hold, and the shapes that can backtrack for longer than any time limit can interrupt.

const SAFE: Array<[string, string?]> = [
  ["^\\+44"],
  ["^\\+?\\d+$"],
  ["^(\\+|00)44(\\d{10})$"],
  ["(foo|bar)+"],
  ["(\\d|x)+"],
  ["(\\s|,)+"],
  ["(?:a|b|c)+"],
  ["(\\d{3}-)+"],
  ["\\w+\\s+\\w+"],
  ["[a-z]+[0-9]+"],
  [".*foo.*"],
  ["^[^@]+@[^@]+\\.[a-z]{2,}$", "i"],
  ["\\d+(?=\\d)"],
  ["(a|b)+"],
  ["[(]+\\)"],
  ["a{2}{"],
  ["\\x41+\\u0042+"],
  ["x".repeat(MAX_REGEX_LENGTH)],
  ["\\d+\\d+"],
  ["[^@]+\\.[a-z]{2,}"],
  ["^.*:\\s*(\\d+)$"],
  ["^\\d+\\d*$"],
  ["(?=.*a)(?=.*b).*c"],
  ["^(?:.*a|b)(?:.*c|d)e"],
  ["^(?:.*:\\s*(\\d+))$"],
];

const UNSAFE: Array<[string, string, RegExp]> = [
  ["(a+)+$", "", /repeated group \(a\+\)\+ contains a quantifier/],
  ["(a*)*", "", /contains a quantifier/],
  ["(.*)+", "", /contains a quantifier/],
  ["(x+x+)+y", "", /contains a quantifier/],
  ["(\\w+\\s?)+$", "", /contains a quantifier/],
  ["(\\d{2,3})+", "", /contains a quantifier/],
  ["((ab)*c)+", "", /contains a quantifier/],
  ["(?:(a+)){2,5}", "", /contains a quantifier/],
  ["(a|a)*", "", /alternatives that can start with the same character/],
  ["(a|ab)*$", "", /alternatives/],
  ["(\\w|\\d)+", "", /alternatives/],
  ["(a|)+", "", /alternatives/],
  ["(A|a)+", "i", /alternatives/],
  ["(x(a|[a-c]))+", "", /alternatives/],
  ["\\d+\\d+$", "", /^\\d\+ and \\d\+ can take the same characters.*anchor the pattern with \^/],
  ["\\d+\\s*\\d+x", "", /can take the same characters/],
  ["a*a*a*a*b", "", /can take the same characters/],
  ["[a-z]+[a-m]+$", "", /can take the same characters/],
  ["(\\d+)\\d*x", "", /can take the same characters/],
  [".*a.*b", "", /^\.\* and \.\* can take the same characters/],
  ["(?:.*,)(.*)x", "", /can take the same characters/],
  ["^.*a.*a.*b", "", /can take the same characters, with nothing between them that the first cannot take too, so a long input can be split between them in many ways; make one/],
  ["^\\d+\\d+$", "m", /can take the same characters/],
  ["(?:.*a|b)(?:.*c|d)e", "", /^\(\?:\.\*a\|b\) and \(\?:\.\*c\|d\) can take the same characters/],
  ["(?:x.*)?.*y", "", /can take the same characters/],
  ["^(?:.*a.*b)?c", "", /can take the same characters/],
  ["(a)\\1", "", /back-reference \\1/],
  ["(?<x>a)\\k<x>", "", /back-reference \\k<x>/],
  ["x".repeat(MAX_REGEX_LENGTH + 1), "", /more than the 200 allowed/],
];

describe("regexHazard", () => {
  it.each(SAFE)("accepts %s", (source, flags = "") => {
    expect(regexHazard(source, flags)).toBeNull();
  });

  it.each(UNSAFE)("refuses %s (flags %j)", (source, flags, reason) => {
    expect(regexHazard(source, flags)).toMatch(reason);
  });

  it("accepts the case-sensitive twin of a pattern it refuses only under the i flag", () => {
    expect(regexHazard("(A|a)+", "")).toBeNull();
  });

  it("keeps what it accepts fast on adversarial inputs as long as an event's text fields", () => {
    const inputs = ["a", "1", " ", "x", "@", "aaa1 ", "foo"].map((unit) => unit.repeat(Math.ceil(2_048 / unit.length)).slice(0, 2_048) + "!");
    for (const [source, flags = ""] of SAFE) {
      const regex = new RegExp(source, `${flags}g`);
      const started = performance.now();
      for (const input of inputs) input.replace(regex, "");
      expect(performance.now() - started, source).toBeLessThan(500);
    }
  });

  it("matches a regex against at most MAX_REGEX_INPUT characters, refusing a longer text as an evaluation error", async () => {
    const text = (length: number) => "a".repeat(length - 2) + "bb";
    expect(await evaluateExpression("$match(s, /b+$/).match", { s: text(MAX_REGEX_INPUT) })).toBe("bb");
    expect(await evaluateExpression("$split(s, /,/)", { s: "a,b" })).toEqual(["a", "b"]);
    for (const expression of ["$contains(s, /b/)", "$replace(s, /a/, 'x')", "$match(s, /b+$/)", "$split(s, /,/)"]) {
      await expect(evaluateExpression(expression, { s: text(MAX_REGEX_INPUT + 1) }), expression).rejects.toThrow(
        `a regular expression is matched against at most ${MAX_REGEX_INPUT} characters; this text has ${MAX_REGEX_INPUT + 1}`,
      );
    }
    // Patterns without a regex are not limited.
    expect(await evaluateExpression("$contains(s, 'bb')", { s: text(MAX_REGEX_INPUT * 4) })).toBe(true);
  });
});

describe("regular expressions in rules", () => {
  const t = gatewayPerTest({ source: false });

  it("refuses a catastrophic regex in a filter or in params with 422 naming the field and the regex", async () => {
    const filtered = await t.gw.api("POST", "/api/webhooks", {
      name: "x", events: ["call.end"], url: `${t.receiver.url}/hook`, filter: "$match(src, /(a+)+$/)",
    });
    expect(filtered.status).toBe(422);
    expect(filtered.body.error.code).toBe("invalid_rule");
    expect(filtered.body.error.details).toHaveLength(1);
    expect(filtered.body.error.details[0].field).toBe("filter");
    expect(filtered.body.error.details[0].message).toMatch(/^unsafe regular expression at position \d+: \/\(a\+\)\+\$\/: the repeated group \(a\+\)\+ contains a quantifier/);
    expect((await t.gw.api("GET", "/api/webhooks")).body.data).toEqual([]);

    const previewed = await t.gw.api("POST", "/api/preview", {
      webhook: { url: `${t.receiver.url}/hook`, params: { ok: "src", uk: "$replace(src, /(\\d|\\d\\d)+$/, '')" } },
    });
    expect(previewed.status).toBe(422);
    expect(previewed.body.error.details).toEqual([{ field: "params.uk", message: expect.stringContaining("/(\\d|\\d\\d)+$/: the repeated group") }]);

    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/hook`, params: { phone: "src" } });
    const patched = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { params: "{'n': $split(src, /\\s*\\s+,/)}" });
    expect(patched.status).toBe(422);
    expect(patched.body.error.details[0]).toEqual({ field: "params", message: expect.stringContaining("can take the same characters") });
    expect((await t.gw.api("GET", `/api/webhooks/${rule.id}`)).body.params).toEqual({ phone: "src" });
  });

  it("accepts an ordinary regex and evaluates it at delivery", async () => {
    const source = await createSource(t.gw);
    const created = await t.gw.api("POST", "/api/webhooks", {
      name: "UK calls", events: ["call.end"], url: `${t.receiver.url}/uk`, filter: "$contains(src, /^\\+44/)",
      params: { phone: "src", local: "$replace(src, /^\\+44/, '0')" },
    });
    expect(created.status).toBe(201);

    expect((await ingest(t.gw, source, callEvent({ src: "+447700900123" }))).status).toBe(202);
    expect((await ingest(t.gw, source, callEvent({ src: "+12025550100" }))).status).toBe(202);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
    expect(JSON.parse(t.receiver.requests[0].body)).toEqual({ phone: "+447700900123", local: "07700900123" });
  });
});

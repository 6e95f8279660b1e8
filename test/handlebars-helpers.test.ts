/**
 * The gateway's built-in helpers and escape modes, with expected outputs.
 * (Parity of the same helpers inside real Handlebars is covered by handlebars-oracle.test.ts.)
 */
import Handlebars from "handlebars";
import { describe, expect, it } from "vitest";
import {
  gatewayHelpers,
  helperNames,
  renderTemplate,
  SafeString,
  type EscapeMode,
} from "../src/render/handlebars/index.js";
import { renderError } from "./support/template-error.js";

const r = (tpl: string, ctx: unknown = {}, escape?: EscapeMode): string => renderTemplate(tpl, ctx, escape ? { escape } : {});

const HOSTILE = [
  'He said "hi"',
  "back\\slash",
  "new\nline\r\ttab",
  "ctrl \u0000\u0001\u001f\u007f",
  "seps \u2028 \u2029",
  "unicode \u2603 \ud83d\ude00 \u00e9",
  "lone \ud800 surrogate",
  "</script><b>&amp;'`=",
  "{{not a mustache}}",
  "",
];

describe("uuid5", () => {
  it("derives the RFC 9562 UUIDv5, in the gateway's call namespace unless one is given", () => {
    // The RFC's own example: www.example.com in the DNS namespace.
    expect(r('{{uuid5 host "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}}', { host: "www.example.com" })).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
    const id = r("{{uuid5 uniqueid}}", { uniqueid: "10000000.1000" });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r("{{uuid5 uniqueid}}", { uniqueid: "10000000.1000" })).toBe(id);
    expect(r("{{uuid5 uniqueid}}", { uniqueid: "10000000.1001" })).not.toBe(id);
    expect(r("{{uuid5 missing}}", {})).toBe("");
  });
});

describe("helperNames", () => {
  it("lists Handlebars' built-ins and the gateway's helpers", () => {
    for (const name of ["if", "unless", "each", "with", "lookup", "log"]) expect(helperNames).toContain(name);
    for (const name of Object.keys(gatewayHelpers)) expect(helperNames).toContain(name);
    expect(Object.keys(gatewayHelpers).sort()).toEqual(
      ["and", "date", "default", "eq", "gt", "gte", "json", "lower", "lt", "lte", "math", "ne", "not", "or", "phone", "upper", "uuid5"].sort(),
    );
  });

  it("lookup given one argument says what it takes, not a JavaScript error (a missing object still renders nothing, as in Handlebars)", () => {
    const error = renderError(() => r("{{lookup agent.name}}", { agent: { name: "Alex" } }));
    expect(error.message).toContain('lookup takes an object and a key: {{lookup agent "name"}}');
    expect(error.message).not.toContain("lookupProperty");
    expect(r("[{{lookup missing}}]")).toBe("[]");
    expect(r('{{lookup agent "name"}}', { agent: { name: "Alex" } })).toBe("Alex");
  });

  it("log renders nothing", () => {
    expect(r('a{{log "message" level="error"}}b{{log}}c')).toBe("abc");
  });
});

describe("json", () => {
  it("produces valid JSON for hostile strings, in every escape mode", () => {
    for (const mode of ["html", "json", "url", "none"] as const) {
      for (const s of HOSTILE) {
        const out = r('{"name": {{json name}}, "n": {{json n}} }', { name: s, n: 5 }, mode);
        const parsed = JSON.parse(out);
        expect(parsed.name).toBe(s);
        expect(parsed.n).toBe(5);
        expect(out).not.toMatch(/[\u2028\u2029]/);
      }
    }
  });

  it("encodes values the way JSON.stringify does; undefined and functions become null", () => {
    const ctx = { o: { a: 1, b: [true, null, "x"] }, arr: [1, 2], zero: 0, f: false, nul: null, fn: () => 1, d: new Date(Date.UTC(2026, 0, 2)) };
    expect(r("{{json o}}", ctx)).toBe('{"a":1,"b":[true,null,"x"]}');
    expect(r("{{json arr}} {{json zero}} {{json f}} {{json nul}} {{json missing}} {{json}}", ctx)).toBe("[1,2] 0 false null null null");
    expect(r("{{json fn}}", ctx)).toBe("null");
    expect(r("{{json d}}", ctx)).toBe('"2026-01-02T00:00:00.000Z"');
    expect(r("{{json o 2}}", ctx)).toBe('{\n  "a": 1,\n  "b": [\n    true,\n    null,\n    "x"\n  ]\n}');
    expect(r('{{json "a<b>&"}}')).toBe('"a<b>&"');
  });

  it("`}}}` closing a JSON object needs a space, as in Handlebars (a syntax error says where)", () => {
    const err = renderError(() => r('{"n": {{json n}}}', { n: 1 }));
    expect(err.kind).toBe("syntax");
    expect(err.message).toBe('line 1, column 15: {{json n}}} runs braces together, which Handlebars reads as one closing tag: put a space between them ({{json n}} })');
    expect(r('{"n": {{json n}} }', { n: 1 })).toBe('{"n": 1 }');
  });

  it("encodes a SafeString as its text", () => {
    expect(renderTemplate("{{json (json name)}}", { name: 'a"b' })).toBe(JSON.stringify(JSON.stringify('a"b')));
  });

  it("fails as a render error for values JSON cannot encode", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(renderError(() => r("{{json c}}", { c: circular })).kind).toBe("render");
    expect(renderError(() => r("{{json b}}", { b: BigInt(1) })).kind).toBe("render");
  });
});

describe("default", () => {
  it("falls back on null, undefined and the empty string only", () => {
    const ctx = { nul: null, empty: "", zero: 0, f: false, s: "set" };
    expect(r('{{default nul "fb"}}|{{default missing "fb"}}|{{default empty "fb"}}', ctx)).toBe("fb|fb|fb");
    expect(r('{{default zero "fb"}}|{{default f "fb"}}|{{default s "fb"}}', ctx)).toBe("0|false|set");
    expect(r('{{default nul empty "third"}}|{{default nul missing}}', ctx)).toBe("third|");
    expect(r('{{json (default nul missing)}}', ctx)).toBe("null");
  });
});

describe("comparison and logic", () => {
  const ctx = { n: 5, s5: "5", s10: "10", a: "apple", b: "banana", code: "16", zero: 0, empty: [], list: [1], nul: null };
  const cases: [string, string][] = [
    ["{{eq n 5}} {{eq n s5}} {{eq s5 n}} {{eq code 16}} {{eq a a}} {{eq a b}}", "true true true true true false"],
    ['{{eq "1.0" "1"}} {{eq "+1" 1}} {{eq nul missing}} {{eq nul nul}} {{eq zero ""}} {{eq zero f}}', "false true false true false false"],
    ["{{ne n 6}} {{ne n s5}} {{ne a b}}", "true false true"],
    ["{{gt s10 n}} {{gt s10 s5}} {{gt n n}} {{gte n n}} {{lt n s10}} {{lte s5 n}}", "true true false true true true"],
    ["{{lt a b}} {{gt a b}} {{lt a n}} {{gt nul n}} {{lt missing n}}", "true false false false false"],
    ['{{gt "2026-11-20T14:08:40Z" "2026-11-20T14:03:00Z"}}', "true"],
    ["{{and n a}} {{and n zero}} {{and n empty}} {{and n list a}} {{and}}", "true false false true true"],
    ["{{or zero nul}} {{or zero a}} {{or empty}} {{or}}", "false true false false"],
    ["{{not zero}} {{not n}} {{not empty}} {{not list}} {{not missing}}", "true false true false true"],
    ['{{#if (eq a "apple")}}A{{else}}B{{/if}}{{#unless (gt n 9)}}small{{/unless}}', "Asmall"],
    ["{{#eq n 5}}five{{else}}other{{/eq}} {{#eq n 6}}six{{else}}other{{/eq}}", "five other"],
    ["{{#ne a b}}differ{{/ne}} {{#gt n 1}}big{{/gt}} {{#lt n 1}}small{{else}}not small{{/lt}}", "differ big not small"],
    ["{{#and n a}}both{{/and}} {{#or zero nul}}x{{else}}neither{{/or}} {{#not zero}}zero{{/not}}", "both neither zero"],
    ["{{^eq n 5}}not five{{else}}five{{/eq}}", "five"],
    ["{{#eq n 5}}{{this.a}}{{/eq}}", "apple"],
  ];
  for (const [tpl, expected] of cases) {
    it(tpl, () => expect(r(tpl, { ...ctx, f: false })).toBe(expected));
  }
});

describe("date", () => {
  const ctx = {
    iso: "2026-11-20T14:03:00Z",
    isoMs: "2026-11-20T14:03:00.123Z",
    isoOffset: "2026-11-20T15:03:00+01:00",
    isoLocal: "2026-11-20T14:03:00",
    sqlLike: "2026-11-20 14:03:00",
    summer: "2026-07-01T14:00:00Z",
    secs: 1795183380,
    ms: 1795183380000,
    secStr: "1795183380",
    date: new Date(Date.UTC(2026, 10, 20, 14, 3)),
    bad: "not a date",
    nul: null,
  };
  const cases: [string, string][] = [
    ["{{date iso}}", "2026-11-20T14:03:00.000Z"],
    ["{{date isoMs}} {{date isoOffset}} {{date isoLocal}} {{date sqlLike}}", "2026-11-20T14:03:00.123Z 2026-11-20T14:03:00.000Z 2026-11-20T14:03:00.000Z 2026-11-20T14:03:00.000Z"],
    ["{{date secs}} {{date ms}} {{date secStr}} {{date date}}", "2026-11-20T14:03:00.000Z 2026-11-20T14:03:00.000Z 2026-11-20T14:03:00.000Z 2026-11-20T14:03:00.000Z"],
    ['{{date iso "YYYY-MM-DD HH:mm:ss"}}', "2026-11-20 14:03:00"],
    ['{{date isoMs "HH:mm:ss.SSS"}} {{date iso "X"}} {{date iso "x"}}', "14:03:00.123 1795183380 1795183380000"],
    ['{{date iso "DD/MM/YYYY [at] HH:mm"}}', "20/11/2026 at 14:03"],
    ['{{date iso "HH:mm Z"}} {{date iso "ZZ"}}', "14:03 +00:00 +0000"],
    ['{{date iso "YYYY-MM-DD HH:mm Z" tz="Europe/London"}}', "2026-11-20 14:03 +00:00"],
    ['{{date summer "YYYY-MM-DD HH:mm Z" tz="Europe/London"}}', "2026-07-01 15:00 +01:00"],
    ['{{date iso "HH:mm ZZ" "America/New_York"}}', "09:03 -0500"],
    ['{{date iso "YYYY-MM-DD HH:mm Z" tz="Asia/Kolkata"}}', "2026-11-20 19:33 +05:30"],
    ['{{date iso "x" tz="Asia/Kolkata"}} {{date iso "X" tz="Asia/Kolkata"}}', "1795183380000 1795183380"],
    ['{{date summer tz="Europe/Berlin"}}', "2026-07-01T16:00:00.000+02:00"],
    ['{{date iso format="HH:mm" tz="UTC"}}', "14:03"],
    ['{{date bad}}|{{date nul}}|{{date missing}}|{{date ""}}|{{date bad "YYYY"}}', "||||"],
  ];
  for (const [tpl, expected] of cases) {
    it(tpl, () => expect(r(tpl, ctx)).toBe(expected));
  }

  it("an unknown time zone is a render error", () => {
    const err = renderError(() => r('{{date iso "HH:mm" tz="Mars/Olympus"}}', ctx));
    expect(err.kind).toBe("render");
    expect(err.message).toMatch(/unknown time zone "Mars\/Olympus"/);
  });
});

describe("upper, lower", () => {
  it("change case and render null as empty", () => {
    expect(r("{{upper s}} {{lower s}} [{{upper nul}}] [{{lower missing}}] {{upper n}}", { s: "MiXed é", nul: null, n: 5 })).toBe(
      "MIXED É mixed é [] [] 5",
    );
  });
});

describe("math", () => {
  const ctx = { a: 125, b: 60, s: "7.5", x: 2.5, y: -2.5, bad: "abc", nul: null, zero: 0 };
  const cases: [string, string][] = [
    ['{{math a "+" b}} {{math a "-" b}} {{math a "*" 2}} {{math a "/" b}} {{math a "%" b}}', "185 65 250 2.0833333333333335 5"],
    ['{{math s "*" 2}} {{math "3" "+" "4"}}', "15 7"],
    ['{{math x "round"}} {{math y "round"}} {{math x "floor"}} {{math x "ceil"}} {{math y "abs"}}', "3 -2 2 3 2.5"],
    ['{{math (math a "/" b) "round" 2}} {{math 1.005 "round" 2}} {{math 2.345 "floor" 1}}', "2.08 1.01 2.3"],
    ['{{math (math a "/" b) "ceil"}} minutes', "3 minutes"],
    ['[{{math bad "+" 1}}] [{{math nul "+" 1}}] [{{math missing "round"}}] [{{math a "/" zero}}] [{{math a "+"}}]', "[] [] [] [] []"],
  ];
  for (const [tpl, expected] of cases) {
    it(tpl, () => expect(r(tpl, ctx)).toBe(expected));
  }

  it("an unknown operator is a render error", () => {
    expect(renderError(() => r('{{math 1 "^" 2}}')).message).toMatch(/math: unknown operator "\^"/);
  });
});

describe("phone", () => {
  const cases: [string, unknown, string][] = [
    ["{{phone v}}", "+1 (555) 123-4567", "+15551234567"],
    ["{{phone v}}", "+15551234567", "+15551234567"],
    ["{{phone v}}", "0044 20 7946 0958", "+442079460958"],
    ["{{phone v}}", "+44 (0)20 7946 0958", "+442079460958"],
    ["{{phone v}}", "+49.30.1234567", "+49301234567"],
    ['{{phone v "44"}}', "07700 900123", "+447700900123"],
    ['{{phone v "+44"}}', "(020) 7946-0958", "+442079460958"],
    ["{{phone v 44}}", "7700900123", "+447700900123"],
    ['{{phone v cc="1"}}', "555-123-4567", "+15551234567"],
    ['{{phone v cc="1"}}', "1 555 123 4567", "+15551234567"],
    ['{{phone v "61"}}', "0412 345 678", "+61412345678"],
    ['{{phone v "44"}}', "+33 1 23 45 67 89", "+33123456789"],
    ['{{phone v "44"}}', "201", "201"],
    ['{{phone v "44"}}', "123456", "123456"],
    ["{{phone v}}", "5551234567", "5551234567"],
    ['{{phone v "44"}}', "sip:201@pbx.example.com", "sip:201@pbx.example.com"],
    ['{{phone v "44"}}', "*97", "*97"],
    ['{{phone v "44"}}', "anonymous", "anonymous"],
    ["{{phone v}}", "+12", "+12"],
    ["{{phone v}}", "+1234567890123456", "+1234567890123456"],
    ['{{phone v "44"}}', 2079460958, "+442079460958"],
    ["[{{phone v}}]", null, "[]"],
    ["[{{phone missing}}]", undefined, "[]"],
  ];
  for (const [tpl, v, expected] of cases) {
    it(`${tpl} with ${JSON.stringify(v)}`, () => expect(r(tpl, { v })).toBe(expected));
  }
});

describe("escape modes", () => {
  it("html is exactly Handlebars.Utils.escapeExpression", () => {
    for (const s of [...HOSTILE, 0, false, null, 12.5, [1, "<a>"], { a: 1 }]) {
      expect(r("{{v}}", { v: s })).toBe(Handlebars.Utils.escapeExpression(s as string));
    }
    expect(r("{{v}}", { v: "<&>\"'`=" })).toBe("&lt;&amp;&gt;&quot;&#x27;&#x60;&#x3D;");
  });

  it("json mode makes any value safe inside a JSON string literal", () => {
    const tpl = '{"name":"{{name}}","n":"{{n}}","nul":"{{nul}}","f":"{{f}}","arr":"{{arr}}","raw":{{{rawJson}}},"j":{{json name}} }';
    for (const s of HOSTILE) {
      const out = r(tpl, { name: s, n: 12.5, nul: null, f: false, arr: ["a", "b"], rawJson: '{"x":1}' }, "json");
      const parsed = JSON.parse(out);
      expect(parsed.name).toBe(s);
      expect(parsed).toMatchObject({ n: "12.5", nul: "", f: "false", arr: "a,b", raw: { x: 1 } });
      expect(parsed.j).toBe(parsed.name);
      expect(out).not.toMatch(/[\u2028\u2029]/);
    }
  });

  it("json mode leaves SafeString output alone", () => {
    const helpers = { safe: () => new SafeString('"already":"json"') };
    expect(renderTemplate("{{safe}}", {}, { escape: "json", helpers })).toBe('"already":"json"');
  });

  it("url mode is encodeURIComponent", () => {
    const values = ["a b&c=d?e#f/g", "caf\u00e9 \u2603", "+15551234567", "100%", "lone \ud800", ""];
    for (const v of values) {
      const out = r("https://crm.example.com/calls?q={{v}}&n={{n}}", { v, n: 7 }, "url");
      const url = new URL(out);
      expect(url.searchParams.get("q")).toBe(v.replace("\ud800", "\ufffd"));
      expect(url.searchParams.get("n")).toBe("7");
    }
    expect(r("{{v}}", { v: "a b/c" }, "url")).toBe("a%20b%2Fc");
    expect(r("{{{v}}}", { v: "a b/c" }, "url")).toBe("a b/c");
  });

  it("none mode is raw output", () => {
    expect(r("{{v}}|{{{v}}}|{{n}}|{{nul}}", { v: '<a href="x">&', n: 0, nul: null }, "none")).toBe('<a href="x">&|<a href="x">&|0|');
  });

  it("triple-stash and {{& }} are never escaped", () => {
    for (const mode of ["html", "json", "url", "none"] as const) {
      expect(r("{{{v}}}{{& v}}", { v: '"<&>' }, mode)).toBe('"<&>"<&>');
    }
  });

  it("an unknown escape mode is a render error", () => {
    expect(renderError(() => renderTemplate("x", {}, { escape: "xml" as EscapeMode })).kind).toBe("render");
  });
});

describe("helpers compose", () => {
  it("inside a realistic JSON body", () => {
    const event = {
      caller_name: 'Jane "JJ" O\'Neil\n',
      src: "07700 900123",
      bill_duration: 328,
      start_at: "2026-11-20T14:03:00Z",
      direction: "inbound",
      agent: null,
      tags: ["vip", 'quo"te'],
    };
    const tpl = `{
  "name": {{json (default caller_name "Unknown")}},
  "phone": "{{phone src "44"}}",
  "minutes": {{math bill_duration "/" 60 }},
  "rounded": {{math (math bill_duration "/" 60) "ceil"}},
  "date": "{{date start_at "YYYY-MM-DD"}}",
  "time_london": "{{date start_at "HH:mm" tz="Europe/London"}}",
  "inbound": {{eq direction "inbound"}},
  "agent": {{json agent.name}},
  "tags": {{json tags}},
  "label": "{{upper direction}}{{#if (and (gt bill_duration 60) (eq direction "inbound"))}} long{{/if}}"
}`;
    for (const mode of ["json", "none", "html"] as const) {
      const parsed = JSON.parse(renderTemplate(tpl, event, { escape: mode }));
      expect(parsed).toEqual({
        name: 'Jane "JJ" O\'Neil\n',
        phone: "+447700900123",
        minutes: 328 / 60,
        rounded: 6,
        date: "2026-11-20",
        time_london: "14:03",
        inbound: true,
        agent: null,
        tags: ["vip", 'quo"te'],
        label: "INBOUND long",
      });
    }
  });
});

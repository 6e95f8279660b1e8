/**
 * Security properties of the eval-free Handlebars renderer: no prototype property is reachable,
 * no code is generated or evaluated, recursion and output are bounded, and syntax errors are
 * reported with a location.
 */
import { afterEach, describe, expect, it } from "vitest";
import { projectFile, projectFiles } from "./support/files.js";
import {
  checkTemplate,
  LIMITS,
  renderTemplate,
  TemplateError,
  type HelperOptions,
} from "../src/render/handlebars/index.js";
import { renderError } from "./support/template-error.js";

const ctx = {
  name: "Jane",
  str: "text",
  arr: [1, 2],
  agent: { name: "Alex" },
  fn: () => "called",
};

declare global {
  // eslint-disable-next-line no-var
  var __hbsPwned: unknown;
}

afterEach(() => {
  delete globalThis.__hbsPwned;
});

describe("prototype properties are unreachable", () => {
  const empty = [
    "{{constructor}}",
    "{{__proto__}}",
    "{{prototype}}",
    "{{toString}}",
    "{{valueOf}}",
    "{{__defineGetter__}}",
    "{{__lookupGetter__}}",
    "{{isPrototypeOf}}",
    "{{propertyIsEnumerable}}",
    "{{toLocaleString}}",
    "{{constructor.name}}",
    "{{constructor.prototype}}",
    "{{__proto__.constructor}}",
    "{{agent.constructor}}",
    "{{agent.constructor.constructor}}",
    "{{agent.__proto__.constructor.name}}",
    "{{arr.constructor}}",
    "{{arr.map}}",
    "{{arr.push}}",
    "{{str.constructor}}",
    "{{str.toUpperCase}}",
    "{{fn.constructor}}",
    "{{fn.call}}",
    "{{fn.apply}}",
    "{{fn.bind}}",
    "{{fn.prototype}}",
    '{{lookup this "constructor"}}',
    '{{lookup agent "__proto__"}}',
    '{{lookup arr "constructor"}}',
    '{{lookup (lookup this "constructor") "prototype"}}',
    '{{lookup str "constructor"}}',
    "{{#with __proto__}}reached{{/with}}",
    "{{#with constructor}}reached{{/with}}",
    "{{#with agent.constructor}}reached{{/with}}",
    "{{#each constructor}}reached{{/each}}",
    "{{#each __proto__}}reached{{/each}}",
    "{{#constructor}}reached{{/constructor}}",
    "{{#__proto__}}reached{{/__proto__}}",
    "{{#if constructor}}reached{{/if}}",
    "{{#if __proto__}}reached{{/if}}",
    "{{@root.constructor}}",
    "{{@root.__proto__}}",
    "{{@constructor}}",
    "{{@__proto__}}",
    "{{#each arr as |x|}}{{x.constructor}}{{x.toFixed}}{{/each}}",
    "{{#each arr}}{{this.constructor}}{{@root.agent.constructor}}{{/each}}",
    "{{json constructor}}",
    "{{default constructor __proto__}}",
    '{{#with (lookup this "__proto__")}}reached{{/with}}',
  ];
  for (const tpl of empty) {
    it(`${tpl} renders nothing`, () => {
      expect(renderTemplate(tpl, ctx).replace(/null/g, "")).toBe("");
    });
  }

  it("helpers named like Object.prototype methods do not exist", () => {
    expect(renderTemplate("{{hasOwnProperty}}{{toString}}{{valueOf}}{{constructor}}", ctx)).toBe("");
    for (const tpl of ['{{hasOwnProperty "name"}}', '{{toString "x"}}', '{{constructor "return 1"}}', '{{#valueOf 1}}x{{/valueOf}}']) {
      expect(renderError(() => renderTemplate(tpl, ctx)).message).toMatch(/Missing helper/);
    }
  });

  it("partials named like Object.prototype properties do not exist", () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const err = renderError(() => renderTemplate(`{{> ${name}}}`, ctx, { partials: { other: "x" } }));
      expect(err.message).toMatch(/could not be found/);
    }
  });

  it("never runs code through the Function constructor (classic Handlebars RCE payloads)", () => {
    const payloads = [
      '{{#with "s" as |string|}}{{#with "e"}}{{#with split as |conslist|}}{{this.pop}}' +
        '{{this.push (lookup string.sub "constructor")}}{{this.pop}}{{#with string.split as |codelist|}}' +
        '{{this.pop}}{{this.push "globalThis.__hbsPwned = 1"}}{{this.pop}}{{#each conslist}}' +
        "{{#with (string.sub.apply 0 codelist)}}{{this}}{{/with}}{{/each}}{{/with}}{{/with}}{{/with}}{{/with}}",
      '{{#with this as |o|}}{{#with (lookup o "constructor") as |C|}}{{#with (lookup C "constructor") as |F|}}' +
        '{{F "globalThis.__hbsPwned = 1"}}{{/with}}{{/with}}{{/with}}',
      '{{agent.constructor.constructor "globalThis.__hbsPwned = 1"}}',
      '{{fn.constructor "globalThis.__hbsPwned = 1"}}',
      '{{#with fn.constructor as |F|}}{{F "globalThis.__hbsPwned = 1"}}{{/with}}',
    ];
    for (const tpl of payloads) {
      try {
        renderTemplate(tpl, ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(TemplateError);
      }
      expect(globalThis.__hbsPwned).toBeUndefined();
    }
  });

  it("hash arguments named __proto__ do not change any prototype", () => {
    let proto: unknown = "unset";
    const helpers = {
      probe: (options: HelperOptions) => {
        proto = Object.getPrototypeOf(options.hash);
        return Object.prototype.hasOwnProperty.call(options.hash, "__proto__") ? "own" : "not own";
      },
    };
    expect(renderTemplate('{{probe __proto__=agent}}', ctx, { helpers })).toBe("own");
    expect(proto).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).name).toBeUndefined();
    expect(renderTemplate('{{> p __proto__=agent}}', ctx, { partials: { p: "{{name}}|{{__proto__.name}}" } })).toBe("Jane|Alex");
    expect(({} as Record<string, unknown>).name).toBeUndefined();
  });

  it("an own __proto__ key (e.g. from JSON.parse) is ordinary data, as in Handlebars", () => {
    const data = JSON.parse('{"__proto__": {"x": "own data"}, "constructor": "own ctor"}');
    expect(renderTemplate("{{__proto__.x}}|{{constructor}}", data)).toBe("own data|own ctor");
  });

  it("renders with eval and the Function constructor disabled (as in Cloudflare Workers)", () => {
    const realFunction = globalThis.Function;
    const realEval = globalThis.eval;
    const forbidden = (): never => {
      throw new Error("code generation is forbidden");
    };
    const source = "{{#*inline \"p\"}}[{{this}}]{{/inline}}{{#each tags as |t i|}}{{> p}}{{i}}{{/each}} {{json agent}} {{#if (eq name \"Jane\")}}{{upper name}}{{/if}} fresh-source-" + Date.now();
    try {
      globalThis.Function = forbidden as unknown as FunctionConstructor;
      globalThis.eval = forbidden;
      expect(renderTemplate(source, { ...ctx, tags: ["a", "b"] })).toMatch(/^\[a\]0\[b\]1 \{"name":"Alex"\} JANE fresh-source-/);
    } finally {
      globalThis.Function = realFunction;
      globalThis.eval = realEval;
    }
  });

  it("the renderer's source is pure: no Node APIs, no code generation", () => {
    const forbidden = [
      /from\s+["']node:/,
      /from\s+["'](fs|path|crypto|buffer|process|child_process|vm|os)["']/,
      /\brequire\s*\(/,
      /\bprocess\./,
      /\bBuffer\b/,
      /\beval\s*\(/,
      /new\s+Function\b/,
      /\.(compile|precompile|template)\s*\(/,
    ];
    const files = projectFiles("src/render/handlebars").filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = projectFile(file)
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      for (const re of forbidden) expect(re.test(text), `${file} matches ${re}`).toBe(false);
    }
  });
});

describe("limits", () => {
  it("infinite partial recursion is a TemplateError", () => {
    const err = renderError(() => renderTemplate("{{> loop}}", ctx, { partials: { loop: "x{{> loop}}" } }));
    expect(err.kind).toBe("render");
    expect(err.message).toMatch(/nested more than 64 deep/);
  });

  it("mutual and inline partial recursion are TemplateErrors", () => {
    renderError(() => renderTemplate("{{> a}}", ctx, { partials: { a: "{{> b}}", b: "{{#if name}}{{> a}}{{/if}}" } }));
    renderError(() => renderTemplate('{{#*inline "r"}}{{> r}}{{/inline}}{{> r}}', ctx));
    renderError(() => renderTemplate("{{#> layout}}{{> layout}}{{/layout}}", ctx, { partials: { layout: "{{> @partial-block}}" } }));
  });

  it("legitimate recursion within the depth limit works", () => {
    const tree = { name: "1", children: [{ name: "2", children: [{ name: "3", children: [] }] }] };
    const partials = { node: "{{name}}{{#each children}}({{> node}}){{/each}}" };
    expect(renderTemplate("{{> node}}", tree, { partials })).toBe("1(2(3))");
  });

  it("output is capped at 1 MiB", () => {
    expect(LIMITS.maxOutput).toBe(1024 * 1024);
    const big = Array.from({ length: 2000 }, () => "x".repeat(1000));
    const err = renderError(() => renderTemplate("{{#each big}}{{this}}{{/each}}", { big }));
    expect(err.message).toMatch(/output exceeds the limit/);
    renderError(() => renderTemplate("{{{huge}}}", { huge: "y".repeat(LIMITS.maxOutput + 1) }));
    renderError(() => renderTemplate("{{#each big}}{{#each ../big}}ab{{/each}}{{/each}}", { big }));
    // just under the cap is fine
    expect(renderTemplate("{{{huge}}}", { huge: "y".repeat(1000) })).toHaveLength(1000);
  });

  it("a template that would run for ever is stopped", () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    const started = Date.now();
    const err = renderError(() =>
      renderTemplate("{{#each a}}{{#each ../a}}{{#each ../../a}}{{#each ../../../a}}{{/each}}{{/each}}{{/each}}{{/each}}", { a }),
    );
    expect(err.message).toMatch(/too complex/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("deeply nested blocks are rejected before they reach Handlebars' (super-linear) parser", () => {
    const nest = (depth: number) => "{{#if t}}".repeat(depth) + "x" + "{{/if}}".repeat(depth);
    expect(renderTemplate(nest(LIMITS.maxBlockDepth), { t: true })).toBe("x");
    expect(renderTemplate("{{#if t}}a{{^}}b{{/if}}".repeat(500), { t: true })).toBe("a".repeat(500));
    const started = Date.now();
    const err = renderError(() => renderTemplate("\n" + nest(5000), { t: true }));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err.kind).toBe("syntax");
    expect(err.message).toMatch(/^line 2, column \d+: blocks nested more than 100 deep/);
  });

  it("very long templates are rejected", () => {
    const err = renderError(() => checkTemplate("x".repeat(LIMITS.maxTemplateLength + 1)));
    expect(err.kind).toBe("syntax");
  });
});

describe("syntax errors", () => {
  const cases: [string, number, number, RegExp][] = [
    ["line1\n{{foo bar=}}", 2, 11, /unexpected CLOSE/],
    ["ok\n {{a.this.b}}", 2, 4, /Invalid path: a\.this/],
    ["{{> a b c}}", 1, 1, /Unsupported number of partial arguments: 2/],
    ["x\n  {{*decorator}}", 2, 3, /Unsupported decorator/],
  ];
  for (const [source, line, column, detail] of cases) {
    it(`${JSON.stringify(source)} -> line ${line}, column ${column}`, () => {
      for (const run of [() => checkTemplate(source), () => renderTemplate(source, {})]) {
        const err = renderError(run);
        expect(err.kind).toBe("syntax");
        expect(err.line).toBe(line);
        expect(err.column).toBe(column);
        expect(err.message.startsWith(`line ${line}, column ${column}: `)).toBe(true);
        expect(err.message).toMatch(detail);
      }
    });
  }

  // The common mistakes in words, placed at the tag to fix, rather than the parser's grammar ("unexpected EOF
  // (expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK')"). The same on both runtimes: this file runs on each.
  const plain: [string, number, number, string][] = [
    ["{{#each items}}\n  {{this}}\n", 1, 1, "{{#each items}} is never closed: add {{/each}} where its block ends"],
    ["a\n{{#if x}}\n  {{#each y}}{{/each}}\n", 2, 1, "{{#if x}} is never closed: add {{/if}} where its block ends"],
    ["{{#if x}}a{{else if y}}b", 1, 1, "{{#if x}} is never closed: add {{/if}} where its block ends"],
    ["{{!-- {{#with a}} --}}\n {{^if x}}none", 2, 2, "{{^if x}} is never closed: add {{/if}} where its block ends"],
    ["a\nb\n  {{#if x}}\n{{/each}}", 3, 3, "{{#if x}} is closed by {{/each}}: it needs {{/if}}, and blocks close in the reverse order they open"],
    ["{{#each a}}{{#if b}}{{/each}}", 1, 12, "{{#if b}} is closed by {{/each}}: it needs {{/if}}, and blocks close in the reverse order they open"],
    ["ok\n{{/if}}", 2, 1, "{{/if}} closes no block: remove it, or open the block before it with {{#if …}}"],
    ["Hello {{name}\n", 1, 7, "{{name} is not closed: end it with }}"],
    ["Hello {{name", 1, 7, "{{name is not closed: end it with }}"],
    ["{{name and {{x}}", 1, 1, "{{name and is not closed: end it with }}"],
    ["<b>{{{name</b>", 1, 4, "{{{name</b> is not closed: end it with }}}"],
    ['{"n": {{json n}}}', 1, 15, "{{json n}}} runs braces together, which Handlebars reads as one closing tag: put a space between them ({{json n}} })"],
    ['{"a": {"n": {{n}}}}', 1, 16, "{{n}}}} runs braces together, which Handlebars reads as one closing tag: put a space between them ({{n}} }})"],
    ["{{{x}}", 1, 5, "{{{x}} opens with three braces but closes with two: write {{{x}}} (inserted as it is) or {{x}} (escaped)"],
    ["{{else}}", 1, 1, "{{else}} is outside any block: it goes between a block's tags, as in {{#if x}} … {{else}} … {{/if}}"],
  ];
  for (const [source, line, column, detail] of plain) {
    it(`${JSON.stringify(source)} -> line ${line}, column ${column}, in words`, () => {
      for (const run of [() => checkTemplate(source), () => renderTemplate(source, {})]) {
        const err = renderError(run);
        expect(err.kind).toBe("syntax");
        expect([err.line, err.column, err.detail]).toEqual([line, column, detail]);
        expect(err.message).toBe(`line ${line}, column ${column}: ${detail}`);
      }
    });
  }

  it("checkTemplate accepts valid templates, unknown helpers and missing partials", () => {
    expect(() => checkTemplate("{{#if a}}{{unknownHelper 1}}{{> missing}}{{/if}}")).not.toThrow();
    expect(() => checkTemplate("{{> p}}", { p: "{{#each x}}{{this}}{{/each}}" })).not.toThrow();
  });

  it("checkTemplate reports a broken partial by name", () => {
    const err = renderError(() => checkTemplate("{{> p}}", { ok: "fine", p: "a\n{{#if}}" }));
    expect(err.kind).toBe("syntax");
    expect(err.partial).toBe("p");
    expect(err.message).toMatch(/^partial "p", line 2, column \d+: /);
  });

  it("render errors are kind render with a location", () => {
    const err = renderError(() => renderTemplate("{{name}}\n  {{#each arr}}{{> nope}}{{/each}}", ctx));
    expect(err.kind).toBe("render");
    expect(err.line).toBe(2);
    expect(err.column).toBe(16);
    expect(err.message).toBe("line 2, column 16: The partial nope could not be found");
  });

  it("a throwing helper is a render error that keeps the cause", () => {
    const cause = new Error("boom");
    const err = renderError(() =>
      renderTemplate("x {{explode}}", ctx, {
        helpers: {
          explode: () => {
            throw cause;
          },
        },
      }),
    );
    expect(err.kind).toBe("render");
    expect(err.message).toBe("line 1, column 3: boom");
    expect(err.cause).toBe(cause);
  });
});

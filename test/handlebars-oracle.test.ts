/**
 * The eval-free interpreter against real Handlebars 4.7.10 as the oracle: every template is
 * rendered by both, with the same helpers and partials, over several contexts, in html mode and
 * in none mode (Handlebars' noEscape), and the outputs must be identical byte for byte.
 * Where Handlebars throws, the interpreter must throw a TemplateError.
 */
import Handlebars from "handlebars";
import { describe, expect, it } from "vitest";
import { SAMPLE_EVENT } from "../src/domain/sample-event.js";
import {
  gatewayHelpers,
  parseTemplate,
  renderTemplate,
  SafeString,
  TemplateError,
  type HelperFunction,
  type HelperOptions,
} from "../src/render/handlebars/index.js";

// The oracle logs denied prototype accesses and {{log}} to the console: keep test output clean.
(Handlebars as unknown as { logger: { level: unknown } }).logger.level = 99;

/* ----------------------------------------------------------------- contexts */

// The stored shape of the sample call that previews use: its ids, its nulls, and a raw payload with characters to escape.
const callEvent = {
  event_id: "evt_01JD7X9W6Q2R8T5Y3K4M1N0P",
  source: "canonical",
  source_id: "src_pbx1",
  ...SAMPLE_EVENT,
  ring_group_name: null,
  ivr_name: null,
  raw: {
    event: "hangup",
    call: { id: "10000000.1000", from: "+15551234567", to: "+15557654321", billsec: 328 },
    custom: { "x-crm-id": "A-77", note: 'He said "call me" <back>\nnext line' },
  },
};

const missedEvent = {
  ...callEvent,
  direction: "outbound",
  status: "no_answer",
  caller_name: null,
  answer_at: null,
  duration: 25,
  bill_duration: 0,
  bridged: false,
  hangup_cause: "NO_ANSWER",
  hangup_initiator: null,
  public_recording: null,
  leadid: null,
  queue_name: null,
  agent: null,
  tags: [],
  raw: {},
};

const misc = {
  name: "O'Brien & <Sons> \"q\" `x` =",
  type: "misc",
  zero: 0,
  empty: "",
  f: false,
  t: true,
  nul: null,
  undef: undefined,
  num: 3.14,
  big: 1e21,
  neg: -5,
  nan: NaN,
  str: "hello",
  html: "<b>bold</b> & 'x'",
  unicode: 'line\u2028sep\nnew\ttab "quote" \\ back \u2603 \ud83d\ude00',
  arr: [1, 2, 3],
  emptyArr: [],
  emptyObj: {},
  sparse: [1, , 3],
  obj: { x: 1, y: "two", z: null },
  nested: { a: { b: { c: "deep" } } },
  people: [
    { name: "Ann", age: 30, tags: ["a", "b"] },
    { name: "Bob", age: 0, tags: [] },
  ],
  tree: { name: "root", children: [{ name: "c1", children: [{ name: "c1a" }] }, { name: "c2" }] },
  "weird key": "W",
  "a-b": "dash",
  "12": "twelve",
  true: "yes",
  null: "N",
  undefined: "U",
  partialName: "simple",
  agent: { name: "Misc Agent", extension: "300" },
  tags: ["x", "y", "z"],
  fn: function (this: unknown) {
    return "fn:" + typeof this + ":" + (this as { type?: string }).type;
  },
  fnFalse: () => false,
  fnList: () => ["l1", "l2"],
  fnObj: () => ({ a: "from fnObj" }),
  fnArgs: function (...args: unknown[]) {
    return "fnArgs:" + (args.length - 1) + ":" + args.slice(0, -1).join("/");
  },
  fnBlock: function (this: unknown, options: HelperOptions) {
    return options.fn ? "<" + options.fn(this) + ">" : "fnBlock-inline";
  },
  deep: {
    fnDeep: function (this: { type?: string }) {
      return "deep:" + this.type;
    },
  },
  map: new Map([
    ["k1", "v1"],
    ["k2", "v2"],
  ]),
};

/** Contexts every corpus template is rendered against. */
const CONTEXTS: Record<string, unknown> = { callEvent, missedEvent, misc, empty: {} };
/** Extra, stranger contexts for the templates marked `odd`. */
const ODD_CONTEXTS: Record<string, unknown> = { null: null, undefined: undefined, string: "a string", number: 42, array: [1, "two", { three: 3 }] };

/* ------------------------------------------------------------------ helpers */

// Test-only helpers, written in Handlebars' calling convention and registered in both renderers.
const testHelpers: Record<string, HelperFunction> = {
  echo: (...args: unknown[]) => args[0],
  bold: (text: unknown) => new SafeString("<b>" + Handlebars.escapeExpression(String(text)) + "</b>"),
  hbSafe: (text: unknown) => new Handlebars.SafeString("<i>" + String(text) + "</i>"),
  hashJson: (options: HelperOptions) => JSON.stringify(options.hash),
  argCount: (...args: unknown[]) => args.length - 1,
  optName: (...args: unknown[]) => (args[args.length - 1] as HelperOptions).name,
  hasFn: (...args: unknown[]) => {
    const o = args[args.length - 1] as HelperOptions;
    return typeof o.fn + "/" + typeof o.inverse;
  },
  thisType: function (this: unknown) {
    return this === null ? "null" : Array.isArray(this) ? "array" : typeof this;
  },
  inverseIt: function (this: unknown, options: HelperOptions) {
    return options.inverse!(this);
  },
  dataRootType: (options: HelperOptions) => (options.data?.root as { type?: unknown } | undefined)?.type,
  locLine: (options: HelperOptions) => `${options.loc?.start.line}:${options.loc?.start.column}`,
  list: function (items: unknown, options: HelperOptions) {
    if (!Array.isArray(items)) return options.inverse!(this);
    return items
      .map((item, i) => {
        const data = { ...options.data, index: i, _parent: options.data };
        return options.fn!(item, { data, blockParams: [item, i] });
      })
      .join("|");
  },
  raw: (options: HelperOptions) => options.fn!(undefined),
  concat: (...args: unknown[]) => args.slice(0, -1).join(""),
  throws: () => {
    throw new Error("helper failed on purpose");
  },
  objOut: () => ({ toString: () => "custom-toString" }),
};

const PARTIALS: Record<string, string> = {
  simple: "S:{{name}}",
  item: "<li>{{name}}</li>\n<li>two</li>\n",
  outer: "a\n  {{> inner}}\nb\n",
  inner: "x\ny\n",
  layout: "<main>{{> @partial-block}}</main>",
  layoutTwice: "[{{> @partial-block}}|{{> @partial-block}}]",
  layoutEach: "{{#each tags}}{{> @partial-block}}{{/each}}",
  layoutWithBlocks: "<h1>{{> title}}</h1>{{> @partial-block}}",
  layoutNested: "<outer>{{#> layout}}{{> @partial-block}}{{/layout}}</outer>",
  rootp: "{{@root.type}}/{{type}}",
  idx: "{{@index}}:{{this}} ",
  tree: "{{name}}{{#if children}}({{#each children}}{{> tree}}{{#unless @last}},{{/unless}}{{/each}}){{/if}}",
  dotdot: "[{{../type}}]",
  keys: "{{#each this}}{{@key}},{{/each}}",
  showT: "[{{t}}]",
  block: "{{#if t}}\n  yes\n{{/if}}\n",
  hashOnly: "{{a}}-{{b}}-{{type}}",
  esc: "{{html}}|{{{html}}}",
  layoutIndent: "<div>\n  {{> @partial-block}}\n</div>\n",
};

function withHelpers(hb: typeof Handlebars): typeof Handlebars {
  hb.registerHelper(gatewayHelpers as Record<string, Handlebars.HelperDelegate>);
  hb.registerHelper(testHelpers as Record<string, Handlebars.HelperDelegate>);
  return hb;
}
const oracleEnv = withHelpers(Handlebars.create());

type Outcome = { ok: true; out: string } | { ok: false; error: unknown };

function oracle(tpl: string, ctx: unknown, none: boolean): Outcome {
  try {
    return { ok: true, out: oracleEnv.compile(tpl, { noEscape: none })(ctx, { partials: { ...PARTIALS } }) };
  } catch (error) {
    return { ok: false, error };
  }
}

function mine(tpl: string, ctx: unknown, none: boolean): Outcome {
  try {
    return { ok: true, out: renderTemplate(tpl, ctx, { partials: PARTIALS, escape: none ? "none" : "html", helpers: testHelpers }) };
  } catch (error) {
    return { ok: false, error };
  }
}

function compare(tpl: string, contexts: Record<string, unknown>): void {
  for (const [ctxName, ctx] of Object.entries(contexts)) {
    for (const none of [false, true]) {
      const expected = oracle(tpl, ctx, none);
      const actual = mine(tpl, ctx, none);
      const label = `${JSON.stringify(tpl)} with ${ctxName} (${none ? "none" : "html"})`;
      if (expected.ok) {
        if (!actual.ok) throw new Error(`${label}: Handlebars gave ${JSON.stringify(expected.out)} but interpreter threw: ${String(actual.error)}`);
        expect(actual.out, label).toBe(expected.out);
      } else {
        expect(actual.ok, `${label}: Handlebars threw (${String(expected.error)}) but interpreter gave ${actual.ok ? JSON.stringify(actual.out) : ""}`).toBe(false);
        if (!actual.ok) expect(actual.error, label).toBeInstanceOf(TemplateError);
      }
    }
  }
}

/* ------------------------------------------------------------------- corpus */

const CORPUS: Record<string, string[]> = {
  paths: [
    "{{caller_name}}",
    "{{agent.name}} {{agent/extension}} {{agent.email}}",
    "{{[weird key]}} {{[a-b]}} {{a-b}} {{[12]}}",
    "{{this.type}} {{./type}} {{this/type}} {{this}}",
    "{{#with agent}}{{.}}|{{this}}|{{name}}{{/with}}",
    "{{#each tags}}{{.}}{{this}}{{/each}}",
    "{{#with agent}}{{../type}} {{name}} {{../agent.name}}{{/with}}",
    "{{#each people}}{{#each tags}}{{../name}}:{{../../type}}:{{this}};{{/each}}{{/each}}",
    "{{@root.type}} {{#with agent}}{{@root.agent.name}}{{/with}} {{#each tags}}{{@root.type}}{{/each}}",
    "{{nested.a.b.c}}|{{nested.a.x.y}}|{{nested.a.b.c.d}}|{{nested.a.b}}",
    "{{zero}}|{{empty}}|{{f}}|{{t}}|{{nul}}|{{undef}}|{{missing}}|{{nan}}",
    "{{arr}}|{{emptyArr}}|{{emptyObj}}|{{obj}}|{{sparse}}",
    "{{arr.length}} {{str.length}} {{arr.[1]}} {{people.[0].name}} {{people.1.name}} {{tags.length}}",
    "{{zero.x}}|{{empty.x}}|{{f.x}}|{{nul.x}}|{{missing.x.y}}",
    "{{@root.zero.x}}|{{@root.empty}}|{{@root.f}}|{{@root.missing.x}}",
    "{{num}} {{big}} {{neg}} {{html}} {{{html}}} {{&html}}",
    "{{unicode}}|{{{unicode}}}",
    "{{../type}}|{{../../x}}|{{@index}}|{{@key}}|{{@first}}|{{@root.type}}",
    "{{@root}}|{{.}}|{{this}}",
    "{{raw.custom.note}} {{raw.custom.[x-crm-id]}} {{raw.call.billsec}}",
    '{{"weird key"}} {{12}} {{true}} {{null}} {{undefined}}',
    "{{#each people}}{{this.name}}{{./age}}{{/each}}",
  ],
  literals: [
    '{{echo "str"}} {{echo \'single\'}} {{echo 1.5}} {{echo -2}} {{echo 0}} {{echo true}} {{echo false}} {{echo null}}|{{echo undefined}}',
    '{{echo "a \\"quoted\\" b"}}',
    '{{default nul "fallback"}} {{default zero "x"}} {{default empty \'y\'}} {{default f "z"}} {{default missing missing2 "third"}}',
    "{{eq 1 1}} {{eq \"a\" \"a\"}} {{eq true true}} {{eq null null}} {{eq undefined nul}} {{eq 1 \"1\"}} {{eq \"1\" \"01\"}}",
    '{{lookup . "weird key"}} {{lookup obj "y"}} {{lookup arr 1}} {{lookup people 0}} {{lookup nul "x"}} {{lookup zero "x"}}',
    '{{lookup (lookup people 0) "name"}} {{#each people}}{{lookup ../obj "y"}}{{/each}}',
    '{{#each tags}}{{lookup ../agent "name"}}{{/each}}',
  ],
  conditionals: [
    "{{#if t}}yes{{/if}}{{#if f}}no{{/if}}{{#if missing}}no{{/if}}",
    "{{#if zero}}y{{else}}n{{/if}} {{#if zero includeZero=true}}y{{else}}n{{/if}} {{#if empty includeZero=true}}y{{else}}n{{/if}}",
    "{{#if emptyArr}}y{{else}}n{{/if}} {{#if emptyObj}}y{{else}}n{{/if}} {{#if arr}}y{{else}}n{{/if}}",
    "{{#if f}}a{{else if zero}}b{{else if str}}c{{else}}d{{/if}}",
    "{{#if f}}a{{else if missing}}b{{else}}d{{/if}}",
    "{{#unless t}}no{{else}}yes{{/unless}} {{#unless f}}unless-f{{/unless}} {{#unless zero includeZero=true}}z{{else}}nz{{/unless}}",
    "{{#if bridged}}answered by {{agent.name}}{{else}}missed{{/if}}",
    "{{#if agent}}{{#if agent.email}}<{{agent.email}}>{{/if}}{{else}}no agent{{/if}}",
    "{{#if fnFalse}}y{{else}}n{{/if}} {{#if fn}}fn-truthy{{/if}}",
    "{{#if (eq direction \"inbound\")}}in{{else if (eq direction \"outbound\")}}out{{else}}other{{/if}}",
    "{{^if t}}inverse-if{{/if}}{{^if f}}inverse-if-f{{/if}}",
    "{{#if t}}a{{^}}b{{/if}}{{#if f}}a{{^}}b{{/if}}",
    "{{#if f}}a{{else each arr}}{{this}}{{else}}none{{/if}}",
    "{{#each emptyArr}}x{{else if t}}empty-and-t{{/each}}",
    "{{#with missing}}x{{else with agent}}{{name}}{{/with}}",
  ],
  iteration: [
    "{{#each arr}}{{@index}}{{@first}}{{@last}}{{@key}} {{/each}}",
    "{{#each obj}}{{@key}}={{this}} {{@index}}{{@first}}{{@last}};{{/each}}",
    "{{#each people}}{{#each tags}}{{@../index}}.{{@index}}{{@../key}} {{/each}}{{/each}}",
    "{{#each emptyArr}}x{{else}}empty{{/each}} {{#each emptyObj}}x{{else}}empty obj{{/each}} {{#each nul}}x{{else}}nul{{/each}}",
    "{{#each people as |p i|}}{{i}}:{{p.name}}:{{p.age}} {{/each}}",
    "{{#each obj as |val key|}}{{key}}->{{val}} {{/each}}",
    "{{#each str}}x{{else}}string not iterated{{/each}} {{#each zero}}x{{else}}zero{{/each}}",
    "{{#each sparse}}[{{@index}}:{{this}}]{{/each}}",
    "{{#each map}}{{@index}}={{this}};{{/each}}",
    "{{#each fnList}}{{this}}{{/each}}",
    "{{#each people}}{{#if @first}}first {{/if}}{{name}}{{#unless @last}}, {{/unless}}{{/each}}",
    "{{#each people}}{{name}}{{#each tags}}{{.}}{{else}}-{{/each}};{{/each}}",
    "{{#each arr}}{{#with ../obj}}{{x}}{{@index}}{{/with}}{{/each}}",
    "{{#each people}}{{#if age}}{{age}}{{else}}no age{{/if}} {{/each}}",
    "{{#each tags}}{{../../type}}|{{../type}}{{/each}}",
    "{{#each people as |tags|}}{{tags.name}}{{/each}}",
    "{{#each people as |p|}}{{#each p.tags as |t j|}}{{p.name}}{{t}}{{j}}{{/each}}{{/each}}",
    "{{#each people as |p|}}{{upper p.name}}{{this.name}}{{p}}{{/each}}",
    "{{#each arr}}{{hashJson i=@index k=@key first=@first}}{{/each}}",
    "{{#each arr}}{{#if @last}}last{{else}}{{this}},{{/if}}{{/each}}",
    "{{#each arr}}{{this}}{{^}}none{{/each}}{{#each emptyArr}}{{this}}{{^}}none{{/each}}",
    "{{#each obj}}{{#if @first}}{{@key}}{{/if}}{{/each}}",
    "{{#each tags}}{{@index}}{{#each ../tags}}{{@../index}}{{@index}}{{/each}} {{/each}}",
    "{{#each people}}{{#each tags}}{{@root.type}}{{../../type}}{{/each}}{{/each}}",
    "{{#each arr}}{{#each ../people}}{{../this}}{{name}} {{/each}}{{/each}}",
  ],
  with: [
    "{{#with nested.a as |a|}}{{a.b.c}}{{/with}}",
    "{{#with nul}}x{{else}}no{{/with}} {{#with zero}}[{{this}}]{{/with}} {{#with emptyArr}}x{{else}}ea{{/with}}",
    "{{#with agent}}{{#with ../agent}}{{name}}{{/with}}{{/with}}",
    "{{#with agent as |a|}}{{#each ../tags}}{{a.name}}{{this}}{{/each}}{{/with}}",
    "{{#with fnObj}}{{a}}{{/with}}",
    "{{#with agent}}{{name}}{{else}}no agent{{/with}}",
    "{{#with str}}{{this}}{{length}}{{/with}}",
  ],
  sections: [
    "{{#agent}}{{name}} <{{email}}>{{/agent}}",
    "{{#tags}}[{{this}}]{{/tags}}",
    "{{#bridged}}yes{{/bridged}}{{^bridged}}no{{/bridged}}",
    "{{^emptyArr}}none{{/emptyArr}} {{^zero}}zero-inverse{{/zero}} {{#zero}}zero-block{{/zero}}",
    "{{#str}}{{this}}{{/str}} {{#num}}{{this}}{{/num}}",
    "{{#nested.a}}{{b.c}}{{/nested.a}} {{#this.agent}}{{name}}{{/this.agent}}",
    "{{#people}}{{name}}{{@index}},{{/people}}",
    "{{#missing}}x{{else}}missing-else{{/missing}} {{^missing}}inv{{/missing}}",
    "{{#nested}}{{#a}}{{#b}}{{c}}{{/b}}{{/a}}{{/nested}}",
    "{{#fnBlock}}inner {{type}}{{/fnBlock}} {{fnBlock}}",
    "{{#fn}}{{this}}{{/fn}}",
    "{{#each people}}{{#tags}}{{this}}{{/tags}}{{/each}}",
    "{{#emptyObj}}obj-block{{/emptyObj}}",
    "{{#with agent}}{{#../tags}}{{this}}{{/../tags}}{{/with}}",
  ],
  subexpressions: [
    "{{upper (default caller_name \"anon\")}}",
    "{{json (lookup agent \"name\")}}",
    "{{#if (and bridged (gt duration 30))}}long{{else}}short{{/if}}",
    "{{#if (or (eq status \"busy\") (eq status \"answered\"))}}ok{{else}}nok{{/if}}",
    "{{not bridged}} {{not emptyArr}} {{not zero}} {{not str}}",
    "{{echo (echo (echo \"nested\"))}}",
    "{{concat (upper type) \"-\" (lower status) \"-\" (math duration \"+\" 1)}}",
    "{{#each people}}{{#if (gt age 10)}}{{name}} is old{{/if}}{{/each}}",
    "{{#unless (eq (lookup . \"type\") \"call.end\")}}not end{{else}}end{{/unless}}",
    "{{hashJson a=(echo 1) b=(upper \"x\")}}",
    "{{#if (fn)}}ctx-fn-in-sexpr{{/if}}",
  ],
  hash: [
    "{{hashJson a=1 b=\"two\" c=true d=nul e=agent.name f=missing}}",
    "{{hashJson z=1 a=2 z=3}}",
    "{{hashJson}}",
    "{{#each tags}}{{hashJson tag=this index=@index}}{{/each}}",
  ],
  whitespace: [
    "a  {{~name~}}  b",
    "a \n {{~name}} \n b",
    "start\n{{#if t}}\n  inside\n{{/if}}\nend",
    "{{#each arr}}\n  - {{this}}\n{{/each}}\n",
    "{{#if f}}\nA\n{{else}}\nB\n{{/if}}\n",
    "a\n  {{! comment }}\nb",
    "{{~#if t~}} x {{~/if~}}|",
    "  {{#each arr~}}\n {{this}} \n{{~/each}}",
    "{{#each arr}} {{~this~}} {{/each}}",
    "{{#if t}}\r\n  crlf\r\n{{/if}}\r\nafter",
    "{{#if f}}\n  a\n{{else}}\n  b\n{{/if}}",
    "x {{#if t}}\ny{{/if}} z",
    "  {{#each tags}}\n    {{this}}\n  {{/each}}\n",
    "{\n  {{#if agent}}\n  \"agent\": {{json agent.name}},\n  {{/if}}\n  \"x\": 1\n}",
    "{{#if t}}\n{{#if t}}\n  nested\n{{/if}}\n{{/if}}\n",
    "  {{^f}}\n  inverse standalone\n  {{/f}}\n",
  ],
  comments: [
    "a{{! comment }}b{{!-- {{not}} a mustache --}}c",
    "{{!-- multi\nline --}}\nafter",
    "x{{~! strip ~}}   y",
  ],
  raw: [
    "{{{{raw}}}}{{not parsed}} {{#if}}{{{{/raw}}}}",
    "{{{{raw}}}}\n  {{x}}\n{{{{/raw}}}}\n",
  ],
  partials: [
    "{{> simple}}",
    "{{> simple agent}}",
    "{{> simple name=\"override\"}}",
    "{{> simple agent name=\"hash wins\"}}",
    "{{> (default partialName \"simple\")}}",
    "{{> (echo \"simple\")}} {{> \"simple\"}}",
    "<ul>\n  {{> item}}\n</ul>",
    "  {{> outer}}",
    "{{#> layout}}content {{type}}{{/layout}}",
    "{{#> missingPartial}}fallback {{type}}{{/missingPartial}}",
    "{{#> layoutTwice}}{{name}}{{/layoutTwice}}",
    "{{#> layoutEach}}[{{this}}@{{@index}}]{{/layoutEach}}",
    "{{#> layoutNested}}deep {{type}}{{/layoutNested}}",
    "{{#*inline \"row\"}}[{{this}}]{{/inline}}{{#each tags}}{{> row}}{{/each}}",
    "{{#> layoutWithBlocks}}{{#*inline \"title\"}}T:{{type}}{{/inline}}body{{/layoutWithBlocks}}",
    "{{> rootp}} {{#with agent}}{{> rootp}}{{/with}}",
    "{{#each tags}}{{> idx}}{{/each}}",
    "{{#with tree}}{{> tree}}{{/with}}",
    "{{#with agent}}{{> dotdot}}{{/with}}",
    "{{#> layout}}\n  inner\n{{/layout}}\n",
    "{{> hashOnly a=1 b=type}}",
    "{{#each tags as |t|}}{{> showT}}{{/each}}",
    "{{#each people}}{{#*inline \"nm\"}}<{{name}}>{{/inline}}{{> nm}}{{/each}}",
    "{{#each tags}}{{> simple name=this}}{{/each}}",
    "{{#with agent}}{{> simple}}{{/with}}",
    "  {{> block}}",
    "{{> esc}}",
    "{{#*inline \"a\"}}A{{> b}}{{/inline}}{{#each tags}}{{#*inline \"b\"}}B{{this}}{{/inline}}{{> a}}{{/each}}",
    "{{#*inline \"outerInline\"}}O{{/inline}}{{#> layout}}{{> outerInline}}{{/layout}}",
    "{{#> layout}}{{#if t}}{{> simple}}{{/if}}{{/layout}}",
    "{{#*inline \"x\"}}\n  line1\n  line2\n{{/inline}}\n  {{> x}}\n",
    "{{#> layoutIndent}}\nblock line 1\nblock line 2\n{{/layoutIndent}}",
    "{{> (lookup . \"partialName\")}}",
    "{{#each tags}}\n  {{~> idx~}}\n{{/each}}",
    "{{#> layout}}{{#> layout}}in{{/layout}}{{/layout}}",
    "{{> simple nul}}|{{> simple zero}}|{{> simple str}}",
  ],
  functions: [
    "{{fn}} {{deep.fnDeep}} {{fnFalse}} {{fnList}}",
    "{{fnArgs 1 \"a\" t}} {{fnArgs}}",
    "{{#with agent}}{{../fn}}{{/with}}",
    "{{#each people}}{{../fn}} {{/each}}",
  ],
  helperConvention: [
    "{{bold caller_name}} {{{bold caller_name}}} {{hbSafe html}}",
    "{{json raw}} {{json agent}} {{json tags}} {{json missing}} {{json nul}} {{json zero}}",
    "{{json agent 2}}",
    "{{argCount}} {{argCount 1}} {{argCount 1 2 3}} {{argCount a=1}}",
    "{{optName}} {{optName 1}} {{#optName}}{{/optName}} {{optName.x 1}}",
    "{{hasFn}} {{#hasFn}}x{{/hasFn}} {{hasFn 1}} {{#hasFn 1}}x{{else}}y{{/hasFn}} {{^hasFn}}x{{/hasFn}}",
    "{{thisType}} {{#with agent}}{{thisType}}{{/with}} {{#each arr}}{{thisType}}{{/each}}",
    "{{#inverseIt}}no{{else}}yes{{/inverseIt}}",
    "{{dataRootType}} {{#with agent}}{{dataRootType}}{{/with}}",
    "line1\n  {{locLine}} {{locLine 1}}",
    "{{#list people}}{{name}}{{@index}}{{/list}}",
    "{{#list people as |p i|}}{{i}}{{p.name}}{{/list}}",
    "{{#list missing}}x{{else}}not a list{{/list}}",
    "{{objOut}} {{{objOut}}}",
    "{{#each tags}}{{optName this}}{{/each}}",
  ],
  security: [
    "{{constructor}}|{{__proto__}}|{{toString}}|{{valueOf}}|{{hasOwnProperty}}|{{__defineGetter__}}",
    "{{constructor.name}}|{{agent.constructor.name}}|{{arr.constructor}}|{{str.constructor}}|{{tags.map}}",
    "{{lookup this \"constructor\"}}|{{lookup agent \"__proto__\"}}|{{lookup arr \"map\"}}|{{lookup str \"toUpperCase\"}}",
    "{{#with __proto__}}x{{else}}no{{/with}}|{{#with constructor}}x{{else}}no{{/with}}",
    "{{#each constructor}}x{{/each}}|{{#each __proto__}}{{@key}}{{/each}}",
    "{{agent.constructor.constructor}}|{{agent.__proto__.constructor}}|{{@root.constructor}}",
    "{{#if constructor}}y{{else}}n{{/if}}{{#if __proto__}}y{{else}}n{{/if}}",
    "{{#constructor}}x{{/constructor}}{{#__proto__}}x{{/__proto__}}",
    "{{lookup (lookup this \"constructor\") \"prototype\"}}",
  ],
  gatewayHelpers: [
    "{{date start_at}} {{date start_at \"YYYY-MM-DD HH:mm\"}} {{date start_at \"HH:mm\" tz=\"Europe/London\"}}",
    "{{phone src}} {{phone \"07700 900123\" \"44\"}} {{phone \"201\"}}",
    "{{math duration \"-\" bill_duration}} {{math bill_duration \"round\"}} {{math 7 \"%\" 3}} {{math missing \"+\" 1}}",
    "{{upper type}} {{lower hangup_cause}} {{upper missing}}",
    "{{#eq direction \"inbound\"}}IN{{else}}OUT{{/eq}}",
    "{{#gt duration 300}}long{{else}}short{{/gt}} {{#lte bill_duration 0}}none{{/lte}}",
    "{{#ne status \"answered\"}}missed{{else}}answered{{/ne}}",
    "{{#and bridged agent}}both{{else}}not both{{/and}} {{#or leadid agent}}either{{/or}} {{#not bridged}}unbridged{{/not}}",
    "{{gt \"10\" 9}} {{lt \"a\" \"b\"}} {{gte start_at end_at}} {{lt duration \"x\"}}",
  ],
  // Handlebars joins consecutive appended values in one `a + b` expression: numbers add up.
  appendMerging: [
    "{{{zero}}}{{{num}}}|{{zero}}{{num}}",
    "{{{t}}}{{{neg}}}{{#if t}}{{/if}}",
    "{{#if t}}{{{num}}}{{/if}}{{{neg}}}",
    "{{#t}}{{/t}}{{{num}}}{{{neg}}}{{#t}}{{/t}}|",
    "{{#t}}{{/t}}{{{num}}}{{{neg}}}",
    "{{{num}}}{{{neg}}}{{#t}}{{/t}}{{{t}}}{{{num}}}",
    "{{#with num}}{{{.}}}{{/with}}{{{neg}}}",
    "{{#t}}{{{num}}}{{/t}}{{{neg}}}",
    "{{#if t}}{{#t}}{{{num}}}{{/t}}{{/if}}{{{neg}}}",
    "{{{f}}}{{{zero}}}{{> simple}}",
    "{{#each arr}}{{{this}}}{{{@index}}}{{/each}}",
    "{{#*inline \"n\"}}{{{num}}}{{/inline}}{{> n}}{{{neg}}}",
    "{{#each arr}}{{@index}}{{@first}}{{@last}}{{@key}} {{/each}}",
  ],
  realistic: [
    `{
  "event_id": "{{event_id}}",
  "type": "{{type}}",
  "call_id": "{{uniqueid}}",
  "direction": "{{direction}}",
  "from": "{{src}}",
  "to": "{{dst}}",
  "caller": { "number": "{{caller_id_number}}", "name": {{json caller_name}} },
  "answered_at": {{json answer_at}},
  "duration": {{duration}},
  "minutes": {{math bill_duration "/" 60}},
  "answered": {{#if bridged}}true{{else}}false{{/if}},
  "hangup_cause": "{{default hangup_cause "UNKNOWN"}}",
  "inbound": {{eq direction "inbound"}},
  {{#if agent}}
  "agent": { "name": {{json agent.name}}, "ext": "{{agent.extension}}" },
  {{/if}}
  "tags": [{{#each tags}}"{{this}}"{{#unless @last}},{{/unless}}{{/each}}],
  "raw": {{json raw}}
}`,
    `<?xml version="1.0"?>
<call id="{{uniqueid}}">
  {{#if caller_name}}
  <caller name="{{caller_name}}">{{caller_id_number}}</caller>
  {{else}}
  <caller>{{caller_id_number}}</caller>
  {{/if}}
  {{#each tags}}
  <tag>{{this}}</tag>
  {{/each}}
</call>`,
    "https://crm.example.com/calls?ext={{agent.extension}}&from={{src}}&lead={{leadid}}",
    "Subject={{#eq status \"answered\"}}Call with {{default caller_name caller_id_number}}{{else}}Missed call from {{src}}{{/eq}}&Duration={{math bill_duration \"/\" 60 }}&Status={{#if bridged}}Completed{{else}}Not Completed{{/if}}",
    "{{#with raw.call}}{{id}}:{{from}}->{{to}} ({{billsec}}s){{else}}no raw call{{/with}}",
  ],
};

/** Templates that Handlebars rejects (at compile or render time); the interpreter must throw too. */
const ERRORS: string[] = [
  "{{unknownHelper 1}}",
  "{{#unknownBlock 1}}x{{/unknownBlock}}",
  "{{#if}}x{{/if}}",
  "{{#if t f}}x{{/if}}",
  "{{#with}}x{{/with}}",
  "{{> nope}}",
  "{{> simple a b}}",
  "{{#each people as |p|}}{{#if p as |q|}}{{q}}{{/if}}{{/each}}",
  "{{str 1}}",
  "{{#if (agent.name)}}x{{/if}}",
  "{{helperMissing}}",
  "{{blockHelperMissing}}",
  "{{throws}}",
  "{{#each tags}}{{throws}}{{/each}}",
  "{{#> layout}}{{#each tags}}{{> @partial-block}}{{/each}}{{/layout}}",
  "{{> @partial-block}}",
  "{{lookup agent}}",
  "{{each tags}}",
  "{{#each}}{{/each}}",
  "{{> (missingFn)}}",
];

/** Templates also rendered with null / string / number / array contexts. */
const ODD: string[] = [
  "{{this}}|{{.}}|{{length}}|{{@root}}",
  "{{#each .}}{{@key}}:{{this}};{{/each}}",
  "{{#if .}}truthy{{else}}falsy{{/if}}",
  "{{thisType}} {{#each this}}{{thisType}}{{/each}}",
  "{{#with this}}{{this}}{{else}}none{{/with}}",
  "{{> simple}}{{> keys}}",
  "{{missing}}{{missing.deep}}{{#missing}}x{{/missing}}",
  "{{[0]}}{{[1]}}{{[2].three}}",
];

/* -------------------------------------------------------------------- tests */

describe("interpreter output equals Handlebars 4.7.10 (html and noEscape)", () => {
  for (const [group, templates] of Object.entries(CORPUS)) {
    describe(group, () => {
      for (const tpl of templates) {
        it(JSON.stringify(tpl).slice(0, 110), () => compare(tpl, CONTEXTS));
      }
    });
  }

  describe("odd contexts", () => {
    for (const tpl of ODD) {
      it(JSON.stringify(tpl), () => compare(tpl, { ...ODD_CONTEXTS, misc }));
    }
  });

  describe("errors: Handlebars throws, so does the interpreter", () => {
    for (const tpl of ERRORS) {
      it(JSON.stringify(tpl), () => {
        const threw = [callEvent, misc].some((ctx) => !oracle(tpl, ctx, false).ok);
        expect(threw, `oracle should throw for ${tpl}`).toBe(true);
        compare(tpl, { callEvent, misc });
      });
    }
  });

  it("corpus is large enough", () => {
    const count = Object.values(CORPUS).reduce((n, list) => n + list.length, 0) + ODD.length + ERRORS.length;
    expect(count).toBeGreaterThanOrEqual(120);
  });
});

describe("details", () => {
  it("parse errors are TemplateError(kind syntax) in both places Handlebars fails", () => {
    for (const tpl of ["{{#if x}}", "{{foo", "{{#if x}}{{/each}}", "{{a.this}}", "{{{{raw}}}} {{{{/other}}}}", "{{foo bar=}}"]) {
      expect(oracle(tpl, {}, false).ok).toBe(false);
      const r = mine(tpl, {}, false);
      expect(r.ok).toBe(false);
      if (!r.ok) expect((r.error as TemplateError).kind).toBe("syntax");
    }
  });

  it("a partial's syntax error names the partial", () => {
    try {
      renderTemplate("x\n{{> bad}}", {}, { partials: { bad: "ok\n{{#if}}" } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      expect((e as TemplateError).kind).toBe("syntax");
      expect((e as TemplateError).partial).toBe("bad");
      expect((e as TemplateError).message).toMatch(/^partial "bad", line 2, column \d+: /);
    }
  });

  it("render errors carry the location of the failing mustache", () => {
    try {
      renderTemplate("a\nb {{#each tags}}\n  {{nope 1}}{{/each}}", { tags: [1] });
      expect.unreachable();
    } catch (e) {
      const err = e as TemplateError;
      expect(err.kind).toBe("render");
      expect(err.line).toBe(3);
      expect(err.column).toBe(3);
      expect(err.message).toBe('line 3, column 3: Missing helper: "nope"');
    }
  });

  it("parseTemplate returns Handlebars' AST, cached by source in a bounded cache", () => {
    const source = "{{#if a}}cached {{b}}{{/if}} " + Math.random();
    const ast = parseTemplate(source) as { type: string; body: unknown[] };
    expect(ast.type).toBe("Program");
    expect(JSON.stringify(ast)).toBe(JSON.stringify(Handlebars.parse(source)));
    expect(parseTemplate(source)).toBe(ast);
    for (let i = 0; i < 600; i++) parseTemplate(`filler ${i} {{x}} ${source}`);
    expect(parseTemplate(source)).not.toBe(ast); // evicted and parsed again
    expect(JSON.stringify(parseTemplate(source))).toBe(JSON.stringify(ast));
  });

  it("renders the same on repeated calls (cache) and does not mutate the context", () => {
    const ctx = JSON.parse(JSON.stringify(callEvent));
    const tpl = CORPUS.realistic![0]!;
    const first = renderTemplate(tpl, ctx);
    expect(renderTemplate(tpl, ctx)).toBe(first);
    expect(ctx).toEqual(JSON.parse(JSON.stringify(callEvent)));
  });
});

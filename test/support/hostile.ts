/**
 * Deterministic hostile inputs: a seeded PRNG, values that break parsers, schemas, templates and expressions,
 * and mutations of valid payloads that put them anywhere in a document.
 */

/** mulberry32: small, fast, and the same sequence for the same seed on every run. */
export function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    chance: (p: number) => next() < p,
  };
}
export type Random = ReturnType<typeof prng>;

/** Placeholders replaced in the serialized text: nesting this deep cannot be built and stringified as values. */
export const DEEP_ARRAY = "\u0001deep-array\u0001";
export const DEEP_OBJECT = "\u0001deep-object\u0001";
const DEPTH = 10_000;
const deepText: Record<string, string> = {
  [JSON.stringify(DEEP_ARRAY)]: "[".repeat(DEPTH) + "]".repeat(DEPTH),
  [JSON.stringify(DEEP_OBJECT)]: '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH),
};

/** JSON text of a value, with the deep-nesting placeholders expanded. */
export function hostileJson(value: unknown): string {
  let text = JSON.stringify(value) ?? "null";
  for (const [placeholder, deep] of Object.entries(deepText)) text = text.split(placeholder).join(deep);
  return text;
}

/** Handlebars that tries to reach prototypes, code generation, missing or recursive partials, or to run away. */
export const TEMPLATE_INJECTIONS = [
  "{{constructor.constructor 'return process'}}",
  "{{#with this}}{{constructor.constructor 'return 1'}}{{/with}}",
  "{{lookup this '__proto__'}}",
  "{{lookup (lookup this 'constructor') 'prototype'}}",
  "{{__proto__.polluted}}{{constructor.name}}{{prototype}}",
  "{{#each this}}{{@key}}={{this}}{{/each}}",
  "{{> missing_partial}}",
  "{{> (lookup . 'type')}}",
  "{{> __proto__}}{{> constructor}}",
  "{{#*inline 'p'}}{{> p}}{{/inline}}{{> p}}",
  "{{#if}}{{/if}}",
  "{{#each}}",
  "{{{{raw}}}}{{x}}{{{{/raw}}}}",
  "{{".repeat(3_000),
  "{{#if a}}".repeat(300) + "x" + "{{/if}}".repeat(300),
  "{{log 'x'}}{{helperMissing}}{{blockHelperMissing}}",
  "{{#each (lookup this 'tags')}}{{#each ../tags}}{{#each ../../tags}}x{{/each}}{{/each}}{{/each}}",
  "{{toString}}{{valueOf}}{{hasOwnProperty 'a'}}{{__defineGetter__ 'a'}}",
  "{{json this}}{{{json this}}}",
  "{{date occurred_at 'YYYY'}}{{phone caller.number}}{{uuid5}}",
];

/** JSONata that evaluates strings, recurses without end, loops, builds huge sequences or reaches prototypes. */
export const EXPRESSION_INJECTIONS = [
  "$eval('1 + 1')",
  "$eval('$eval(\"$eval(\\'x\\')\")')",
  "($f := function($x) { $f($x + 1) }; $f(0))",
  "($f := function($x) { 1 + $f($x + 1) }; $f(0))",
  "$reduce([1..5000], function($a, $b) { {'a': $a} }, {})",
  "$$.__proto__",
  "constructor.prototype",
  "__proto__.polluted",
  "$merge([{'__proto__': {'polluted': 1}}, $])",
  "$spread($)",
  "$lookup($, '__proto__')",
  "$string($, true)",
  "[1..10000001]",
  "$sum([1..1000000])",
  "(((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))",
  "$pad('x', 100000000)",
  "$replace('a', '', 'b')",
  "$match(caller.number, /(a+)+$/)",
  "$replace(src, /(\\d|\\d\\d)*x/, '')",
  "$function",
  "caller.number ~> $length",
  "{",
  "$ ~> |$|{'__proto__': {'polluted': true}}|",
];

const STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff\ud800",
  "\u202e\u200b\ufeff",
  "💥".repeat(500),
  "x".repeat(70_000),
  "<script>alert(1)</script>",
  "'; DROP TABLE events; --",
  "../../../../etc/passwd",
  "%00%2e%2e%2f",
  "http://169.254.169.254/latest/meta-data/",
  "__proto__",
  "constructor",
  "prototype",
  "NaN",
  "-1",
  "1e400",
  "2026-02-30T25:61:61Z",
];

const NUMBERS = [0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, 4_294_967_296];

const STRUCTURES: unknown[] = [
  null,
  true,
  false,
  [],
  [null],
  {},
  { __proto__: { polluted: "yes" } },
  JSON.parse('{"__proto__": {"polluted": "yes"}}'),
  { constructor: { prototype: { polluted: "yes" } } },
  { prototype: { polluted: "yes" } },
  Array.from({ length: 5_000 }, (_, i) => i),
  DEEP_ARRAY,
  DEEP_OBJECT,
];

/** One hostile value of any kind. */
export function hostileValue(random: Random): unknown {
  switch (random.int(5)) {
    case 0:
      return random.pick(STRINGS);
    case 1:
      return random.pick(NUMBERS);
    case 2:
      return random.pick(STRUCTURES);
    case 3:
      return random.pick(TEMPLATE_INJECTIONS);
    default:
      return random.pick(EXPRESSION_INJECTIONS);
  }
}

export const POLLUTING_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "\u0000", ""];

/** Paths to every value in a JSON document (objects and arrays), the root as []. */
function pathsOf(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, [...path, i], out));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  return out;
}

/** An own property even for "__proto__": plain assignment would change the object's prototype instead. */
function setOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
}

/** A copy of `doc` with one to three values replaced, keys added (polluting ones among them) or removed. */
export function mutate(doc: unknown, random: Random): unknown {
  let copy: unknown = structuredClone(doc);
  for (let n = 1 + random.int(3); n > 0; n--) {
    const paths = pathsOf(copy);
    const path = random.pick(paths);
    if (path.length === 0) {
      if (random.chance(0.1)) copy = hostileValue(random);
      continue;
    }
    const parent = path.slice(0, -1).reduce((node: any, key) => node[key], copy) as Record<string | number, unknown>;
    const key = path[path.length - 1];
    const action = random.int(4);
    if (action === 0 && !Array.isArray(parent)) delete parent[key];
    else setOwn(parent, action === 1 && !Array.isArray(parent) ? random.pick(POLLUTING_KEYS) : key, hostileValue(random));
  }
  return copy;
}

/** JSON text that does not parse, or parses into something odd (a BOM, duplicate keys, a lone value). */
export function brokenJson(valid: string, random: Random): string {
  switch (random.int(9)) {
    case 0:
      return valid.slice(0, random.int(valid.length));
    case 1:
      return valid + random.pick([",", "}", "]", "garbage", "\u0000"]);
    case 2:
      return valid.replace(/:/, random.pick(["", "::", ":,", ": NaN,"]));
    case 3:
      return "\ufeff" + valid;
    case 4:
      return valid.replace(/^\{/, '{"type": 1, "type": "call.end", ');
    case 5:
      return random.pick(["", " ", "null", "0", '"x"', "[]", "{}", "true", "nul", "{'a': 1}", "[1,]", "{\"a\":}"]);
    case 6:
      return valid.replace(/"/g, random.pick(["'", "\u201c", ""]));
    case 7:
      return Array.from({ length: 64 }, () => String.fromCharCode(random.int(256))).join("");
    default:
      return "[".repeat(10_000) + "{".repeat(random.int(2));
  }
}

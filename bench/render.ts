import { readdirSync, readFileSync } from "node:fs";
import Handlebars from "handlebars";
import jsonata from "jsonata";
import type { CanonicalEvent } from "../src/domain/event.js";
import { SAMPLE_EVENT } from "../src/domain/sample-event.js";
import { allPresets } from "../src/presets/registry.js";
import { evaluationContext } from "../src/render/context.js";
import { gatewayHelpers, renderTemplate } from "../src/render/handlebars/index.js";
import { EXPRESSION_LIMITS, evaluateExpression } from "../src/render/jsonata.js";
import { loadPartials, PARTIALS_DIR } from "../src/runtime/node-partials.js";
import { fixed, ratio, table } from "./table.js";

// Rendering on one core, in this process: the eval-free interpreter against Handlebars' own compiled
// templates (the bench may call compile; the product never does), and JSONata with and without the cache.

const TEMPLATES_DIR = new URL("../templates", import.meta.url).pathname;

interface Case {
  name: string;
  template: string;
  context: Record<string, unknown>;
}

const sampleEvent = { ...SAMPLE_EVENT, event_id: "evt_bench", source: "canonical", source_id: "src_bench", raw: SAMPLE_EVENT } as unknown as CanonicalEvent;

function presetCases(): Case[] {
  return allPresets().flatMap((preset) => {
    const template = preset.webhook.body_template;
    if (!template) return [];
    const config = Object.fromEntries(Object.entries(preset.config).map(([key, field]) => [key, field.example ?? field.default ?? `${key}-value`]));
    return [{ name: `preset ${preset.id}`, template, context: evaluationContext(sampleEvent, preset.webhook.hangup_causes ?? {}, config) }];
  });
}

function libraryCases(): Case[] {
  return readdirSync(TEMPLATES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== "partials")
    .map((entry) => {
      const dir = `${TEMPLATES_DIR}/${entry.name}`;
      const meta = JSON.parse(readFileSync(`${dir}/template.json`, "utf8")) as { hangup_causes?: Record<string, string> };
      const event = JSON.parse(readFileSync(`${dir}/sample-event.json`, "utf8")) as CanonicalEvent;
      return { name: `template ${entry.name}`, template: readFileSync(`${dir}/template.hbs`, "utf8"), context: evaluationContext(event, meta.hangup_causes ?? {}) };
    });
}

/** The README's body-template example. */
const README_CASE: Case = {
  name: "README example",
  template: `{"text": "{{#if (eq status 'answered')}}Call{{else}}Missed call{{/if}} from {{caller_name}} ({{src}}), {{bill_duration}} s"}`,
  context: evaluationContext(sampleEvent, {}),
};

/** Nanoseconds per call of `fn`: the best of several rounds, so that a busy neighbour costs less. */
function nsPerOp(fn: () => unknown, iterations: number, rounds = 5): number {
  for (let i = 0; i < iterations / 10; i += 1) fn();
  let best = Infinity;
  for (let round = 0; round < rounds; round += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / iterations);
  }
  return best;
}

async function nsPerAsyncOp(fn: () => Promise<unknown>, iterations: number, rounds = 5): Promise<number> {
  for (let i = 0; i < iterations / 10; i += 1) await fn();
  let best = Infinity;
  for (let round = 0; round < rounds; round += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / iterations);
  }
  return best;
}

const perSecond = (ns: number) => fixed(1e9 / ns, 0);

export function handlebarsBench(iterations: number): string {
  const partials = loadPartials(PARTIALS_DIR);
  const oracle = Handlebars.create();
  oracle.registerHelper(gatewayHelpers as Record<string, Handlebars.HelperDelegate>);
  // Registered, partials are compiled once; passed per call as strings, Handlebars would compile them each time.
  oracle.registerPartial(partials);
  (oracle as unknown as { logger: { level: unknown } }).logger.level = 99;
  const rows: string[][] = [];
  let ours = 0;
  let theirs = 0;
  for (const c of [...presetCases(), README_CASE, ...libraryCases()]) {
    const compiled = oracle.compile(c.template);
    const viaHandlebars = () => compiled(c.context);
    // HTML escaping on both sides: the mode Handlebars has, so that the outputs can be compared byte for byte.
    const viaInterpreter = () => renderTemplate(c.template, c.context, { partials, escape: "html" });
    if (viaHandlebars() !== viaInterpreter()) throw new Error(`${c.name}: the interpreter's output differs from Handlebars'`);
    const a = nsPerOp(viaInterpreter, iterations);
    const b = nsPerOp(viaHandlebars, iterations);
    ours += a;
    theirs += b;
    rows.push([c.name, perSecond(a), perSecond(b), ratio(a, b)]);
  }
  rows.push(["all (sum of times)", "", "", ratio(ours, theirs)]);
  return `Handlebars: renders/s on one core, same output\n${table(["template", "interpreter", "Handlebars.compile", "interpreter time / compiled"], rows)}`;
}

/** JSONata expressions the gateway evaluates: a preset's params, and the README's examples. */
function expressions(): Array<[string, string]> {
  const tradersoft = allPresets().find((preset) => preset.id === "tradersoft")?.webhook.params;
  const fromPreset = tradersoft && typeof tradersoft === "object" ? Object.entries(tradersoft).slice(0, 3) : [];
  return [
    ...fromPreset.map(([name, source]) => [`tradersoft ${name}`, source] as [string, string]),
    ["README minutes", "$round(bill_duration / 60)"],
    ["README outcome", 'status = "answered" ? "Done" : "Missed"'],
    ["README substring", '$substringAfter(src, "+")'],
    ["README object", '{"call": uniqueid, "answered": status = "answered"}'],
  ];
}

export async function jsonataBench(iterations: number): Promise<string> {
  const context = evaluationContext(sampleEvent, {}, { secret_key: "k" });
  const options = { timeout: EXPRESSION_LIMITS.timeoutMs, stack: EXPRESSION_LIMITS.stackDepth, sequence: EXPRESSION_LIMITS.maxSequence };
  const rows: string[][] = [];
  for (const [name, source] of expressions()) {
    const cached = await nsPerAsyncOp(() => evaluateExpression(source, context), iterations);
    const uncached = await nsPerAsyncOp(() => jsonata(source, options as Parameters<typeof jsonata>[1]).evaluate(context), iterations);
    rows.push([name, perSecond(cached), perSecond(uncached), ratio(uncached, cached)]);
  }
  return `JSONata: evaluations/s on one core\n${table(["expression", "cached", "compiled each time", "cache speed-up"], rows)}`;
}

/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line is a HELP, a TYPE
 * or a sample of a declared family, label values are well-formed, histogram buckets are cumulative and end
 * with `+Inf` equal to `_count`. Throws on anything else.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  /** Each family's HELP text, unescaped. */
  help: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name and these labels (exactly), or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length) {
    const match = LABEL.exec(rest);
    if (!match) throw new Error(`bad labels in: ${line}`);
    if (match[1] in labels) throw new Error(`repeated label ${match[1]} in: ${line}`);
    labels[match[1]] = match[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    rest = rest.slice(match[0].length);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) throw new Error(`bad value in: ${line}`);
  return Number(text);
}

/** The family a sample belongs to: its own name, or a histogram's name for `_bucket`, `_sum` and `_count`. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return types.get(base) === "histogram" ? base : undefined;
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

function checkHistograms(samples: Sample[], types: Map<string, string>): void {
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const buckets = samples.filter((s) => s.name === `${family}_bucket`);
    const seriesKeys = new Set(buckets.map(({ labels: { le: _le, ...rest } }) => JSON.stringify(rest)));
    for (const key of seriesKeys) {
      const labels = JSON.parse(key) as Record<string, string>;
      const own = buckets.filter(({ labels: { le: _le, ...rest } }) => sameLabels(rest, labels));
      const bounds = own.map((s) => parseValue(s.labels.le, family));
      if (bounds.at(-1) !== Infinity) throw new Error(`${family}: last bucket is not +Inf`);
      for (let i = 1; i < own.length; i++) {
        if (!(bounds[i] > bounds[i - 1])) throw new Error(`${family}: bucket bounds not ascending`);
        if (own[i].value < own[i - 1].value) throw new Error(`${family}: buckets not cumulative`);
      }
      const count = samples.find((s) => s.name === `${family}_count` && sameLabels(s.labels, labels));
      const sum = samples.find((s) => s.name === `${family}_sum` && sameLabels(s.labels, labels));
      if (!count || !sum) throw new Error(`${family}: _sum or _count missing`);
      if (count.value !== own.at(-1)!.value) throw new Error(`${family}: +Inf bucket differs from _count`);
    }
  }
}

export function parsePrometheus(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const types = new Map<string, string>();
  const helped = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    const help = HELP.exec(line);
    const type = TYPE.exec(line);
    if (help) {
      if (helped.has(help[1])) throw new Error(`second HELP for ${help[1]}`);
      helped.set(help[1], help[2].replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\")));
    } else if (type) {
      if (types.has(type[1])) throw new Error(`second TYPE for ${type[1]}`);
      types.set(type[1], type[2]);
    } else {
      const sample = SAMPLE.exec(line);
      if (!sample) throw new Error(`not a metrics line: ${JSON.stringify(line)}`);
      if (!familyOf(sample[1], types)) throw new Error(`sample before its TYPE: ${line}`);
      samples.push({ name: sample[1], labels: parseLabels(sample[2] ?? "", line), value: parseValue(sample[3], line) });
    }
  }
  checkHistograms(samples, types);
  return {
    types,
    help: helped,
    samples,
    value: (name, labels = {}) => samples.find((s) => s.name === name && sameLabels(s.labels, labels))?.value,
  };
}

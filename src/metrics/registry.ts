/**
 * A small in-memory metrics registry and its Prometheus text exposition (format 0.0.4). Recording is a map
 * look-up and an add, cheap enough for the hot path; no runtime imports, so it runs on Node and in workerd.
 */
type Labels = Record<string, string>;

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

const number = (value: number) => (value === Infinity ? "+Inf" : value === -Infinity ? "-Inf" : String(value));

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

/** One series per distinct label set, keyed by the label values in the metric's label order. */
class Series<T> {
  private readonly byKey = new Map<string, { labels: Labels; value: T }>();
  constructor(
    private readonly labelNames: readonly string[],
    private readonly initial: () => T,
  ) {}

  of(labels: Labels): T {
    const key = this.labelNames.map((name) => labels[name] ?? "").join("\u0000");
    let entry = this.byKey.get(key);
    if (!entry) {
      const ordered = Object.fromEntries(this.labelNames.map((name) => [name, labels[name] ?? ""]));
      entry = { labels: ordered, value: this.initial() };
      this.byKey.set(key, entry);
    }
    return entry.value;
  }

  entries() {
    return [...this.byKey.values()];
  }
}

export class Counter<L extends string = never> {
  private readonly series: Series<{ n: number }>;
  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[] = [],
    /** Label sets known in advance (a fixed vocabulary), exposed at 0 from the start like an unlabelled counter. */
    known: ReadonlyArray<Record<L, string>> = [],
  ) {
    this.series = new Series(labelNames, () => ({ n: 0 }));
    // A series reads 0 from the start, so that rate() and increase() see its first increase: a series that
    // first appears at 1 shows none, and an alert on the first failed delivery after a start would not fire.
    if (labelNames.length === 0) this.series.of({});
    for (const labels of known) this.series.of(labels);
  }

  inc(labels: Record<L, string> = {} as Record<L, string>, by = 1): void {
    this.series.of(labels).n += by;
  }

  expose(): string[] {
    return [...header(this.name, this.help, "counter"), ...this.series.entries().map((e) => `${this.name}${labelText(e.labels)} ${number(e.value.n)}`)];
  }
}

/** Unlabelled: every histogram here times one thing the whole gateway does. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending; `+Inf` is implied. */
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) this.counts[i] += 1;
    this.sum += value;
    this.count += 1;
  }

  expose(): string[] {
    const lines = header(this.name, this.help, "histogram");
    this.buckets.forEach((bound, i) => lines.push(`${this.name}_bucket${labelText({ le: number(bound) })} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket${labelText({ le: "+Inf" })} ${this.count}`);
    lines.push(`${this.name}_sum ${number(this.sum)}`);
    lines.push(`${this.name}_count ${this.count}`);
    return lines;
  }
}

/** A value read at scrape time (from the store, say) rather than recorded as it happens. */
interface GaugeReading {
  name: string;
  help: string;
  samples: Array<{ labels?: Labels; value: number }>;
}

export function exposeGauge(gauge: GaugeReading): string[] {
  return [...header(gauge.name, gauge.help, "gauge"), ...gauge.samples.map((s) => `${gauge.name}${labelText(s.labels ?? {})} ${number(s.value)}`)];
}

/** The exposition text of these metrics: one family after another, ending with a newline. */
export function exposition(families: string[][]): string {
  return families.flat().join("\n") + "\n";
}

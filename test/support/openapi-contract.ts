import { Validator } from "@cfworker/json-schema";
import type { Answer } from "./gateway-api.js";

// What an OpenAPI document says a route answers, checked against a real answer: the document is the oracle,
// so a route that answers a status, a content type or a field its document does not describe is caught.

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** An operation of the document and one status it was seen to answer. */
export interface Seen {
  method: string;
  path: string;
  status: number;
}

/** Every object schema that lists its fields made to refuse any other. */
function closed(node: any): any {
  if (Array.isArray(node)) return node.map(closed);
  if (typeof node !== "object" || node === null) return node;
  const inner = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, closed(value)]));
  return inner.properties && !("additionalProperties" in inner) ? { ...inner, additionalProperties: false } : inner;
}

export class OpenApiContract {
  readonly seen: Seen[] = [];

  constructor(private readonly doc: any) {}

  /** Every operation of the document, as `get /api/sources`. */
  operations(): string[] {
    return Object.entries<any>(this.doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m} ${path}`));
  }

  /** The path template a concrete path (query left off) is an instance of: literal segments before `{params}`. */
  template(path: string): string | undefined {
    const bare = path.split("?")[0];
    const matching = Object.keys(this.doc.paths).filter((template) => {
      const pattern = template.split("/").map((segment) => (/^\{\w+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^$()|[\]\\]/g, "\\$&")));
      return new RegExp(`^${pattern.join("/")}$`).test(bare);
    });
    const params = (template: string) => (template.match(/\{/g) ?? []).length;
    return matching.sort((a, b) => params(a) - params(b))[0];
  }

  /** A node of the document, its `$ref` followed. */
  private resolved(node: any): any {
    if (typeof node?.$ref !== "string") return node;
    return this.resolved(node.$ref.replace(/^#\//, "").split("/").reduce((inner: any, key: string) => inner?.[key], this.doc));
  }

  /** What is wrong with this answer to `method path` by the document; none when it is what the document describes. */
  problems(method: string, path: string, answer: Answer): string[] {
    const template = this.template(path);
    const label = `${method} ${template ?? path} ${answer.status}`;
    const operation = template && this.doc.paths[template][method.toLowerCase()];
    if (!operation) return [`${method} ${path}: no such operation in the document`];
    this.seen.push({ method: method.toLowerCase(), path: template, status: answer.status });
    const response = this.resolved(operation.responses[String(answer.status)] ?? operation.responses.default);
    if (!response) return [`${label}: status not documented (documented: ${Object.keys(operation.responses).join(", ")})`];
    if (!response.content) return answer.body === null ? [] : [`${label}: documented without a body, answered ${JSON.stringify(answer.body)}`];
    const type = (answer.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    const media = response.content[type];
    if (!media) return [`${label}: answered ${type || "no content type"}, documented ${Object.keys(response.content).join(", ")}`];
    // The schema as the root of a document holding the components, so that its `$ref`s resolve; closed, so that a
    // field the document does not describe is caught (the document leaves answers open to new fields).
    const schema = closed(structuredClone({ ...media.schema, components: this.doc.components }));
    const result = new Validator(schema, "2020-12", false).validate(answer.body);
    if (result.valid) return [];
    return result.errors.slice(-5).map((e) => `${label}: ${e.instanceLocation} ${e.error} (${e.keywordLocation})`);
  }

  /** Operations and statuses not seen yet: which of `want` ("get /api/sources 200") are missing. */
  unseen(want: string[]): string[] {
    const seen = new Set(this.seen.map((s) => `${s.method} ${s.path} ${s.status}`));
    return want.filter((entry) => !seen.has(entry));
  }
}

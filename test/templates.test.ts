/**
 * The template library in templates/: every folder is a ready body template (template.hbs), its metadata
 * (template.json), a sample canonical event and the exact output expected for it. Folders are discovered,
 * so a new template is tested without touching this file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALL_STATUSES, DIRECTIONS, EVENT_TYPES, HANGUP_CAUSES, callFieldsSchema } from "../src/domain/event.js";
import type { CanonicalEvent } from "../src/domain/event.js";
import { evaluationContext } from "../src/render/context.js";
import { renderTemplate } from "../src/render/handlebars/index.js";
import { compileExpression, evaluateExpression } from "../src/render/jsonata.js";
import { escapeModeFor } from "../src/render/request.js";
import { projectFile, projectFiles, projectJson } from "./support/files.js";
import { startGateway, type TestGateway } from "./support/gateway.js";

const TEMPLATES_DIR = "templates";
const BODY_METHODS = ["POST_JSON", "POST", "PUT", "PATCH"];

/** Every field of the canonical event (README, "The canonical call event"). */
const CANONICAL_FIELDS = [
  "event_id", "type", "source", "source_id", "occurred_at", "uniqueid", "direction", "status", "src", "dst",
  "caller_id_number", "caller_name", "did", "start_at", "answer_at", "end_at", "duration", "bill_duration",
  "bridged", "hangup_cause", "hangup_cause_code", "hangup_initiator", "public_recording", "leadid",
  "queue_name", "ring_group_name", "ivr_name", "agent", "tags", "raw",
];

interface Meta {
  name: string;
  description: string;
  content_type: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  events: string[];
  filter: string | null;
  hangup_causes?: Record<string, string>;
  notes: string;
}

interface Template {
  id: string;
  dir: string;
  source: string;
  meta: Meta;
  sample: CanonicalEvent;
  expectedFile: string;
  expected: string;
}

type Kind = "json" | "form" | "html" | "xml";

function kindOf(contentType: string): Kind {
  if (/json/i.test(contentType)) return "json";
  if (/x-www-form-urlencoded/i.test(contentType)) return "form";
  if (/html/i.test(contentType)) return "html";
  if (/xml/i.test(contentType)) return "xml";
  throw new Error(`no validity check for content type ${contentType}`);
}

const EXTENSION: Record<Kind, string> = { json: "json", form: "txt", html: "html", xml: "xml" };

/** Folders of templates/ (other than partials/) that hold a template.hbs. */
const templateIds = projectFiles(TEMPLATES_DIR)
  .map((path) => /^templates\/([^/]+)\/template\.hbs$/.exec(path)?.[1])
  .filter((id): id is string => id !== undefined)
  .sort();

function load(id: string): Template {
  const dir = `${TEMPLATES_DIR}/${id}`;
  const expectedFiles = projectFiles(dir)
    .map((path) => path.slice(dir.length + 1))
    .filter((file) => file.startsWith("expected."));
  if (expectedFiles.length !== 1) throw new Error(`${id}: want exactly one expected.* file, found ${expectedFiles.join(", ") || "none"}`);
  const expectedFile = expectedFiles[0]!;
  return {
    id,
    dir,
    source: projectFile(`${dir}/template.hbs`),
    meta: projectJson(`${dir}/template.json`),
    sample: projectJson(`${dir}/sample-event.json`),
    expectedFile,
    expected: projectFile(`${dir}/${expectedFile}`),
  };
}

/** templates/partials/<name>.hbs, by name. */
const partials = Object.fromEntries(
  projectFiles(`${TEMPLATES_DIR}/partials`).map((path) => [path.slice(path.lastIndexOf("/") + 1, -".hbs".length), projectFile(path)]),
);

/** Exactly what renderRequest does for a body template. */
function render(t: Template, event: CanonicalEvent): string {
  const context = evaluationContext(event, (t.meta.hangup_causes ?? {}) as Parameters<typeof evaluationContext>[1]);
  return renderTemplate(t.source, context, { partials, escape: escapeModeFor(t.meta.content_type) });
}

const HOSTILE_NAME = 'Jane "JJ" <O\'Neil> & Co\nline2 \u2028';

/** The sample with the fields that most often break a template made awkward. */
function hostile(sample: CanonicalEvent): CanonicalEvent {
  return {
    ...sample,
    caller_name: HOSTILE_NAME,
    agent: null,
    public_recording: null,
    tags: [],
    bill_duration: 0,
    status: "no_answer",
  };
}

/** The sample with every nullable field null (what a terse PBX sends). */
function allNull(sample: CanonicalEvent): CanonicalEvent {
  const nulls = Object.fromEntries(
    CANONICAL_FIELDS.filter((f) => !["event_id", "type", "source", "source_id", "occurred_at", "uniqueid", "tags", "raw"].includes(f)).map(
      (f) => [f, null],
    ),
  );
  return { ...sample, ...nulls, tags: [] } as CanonicalEvent;
}

// ---------- validity checks, one per kind of content ----------

function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => allStrings(v, out));
  else if (value !== null && typeof value === "object") Object.values(value).forEach((v) => allStrings(v, out));
  return out;
}

function checkJson(text: string): string[] {
  const value = JSON.parse(text);
  expect(typeof value).toBe("object");
  expect(value).not.toBeNull();
  // Raw line separators are legal in JSON but break JavaScript consumers: the renderer escapes them.
  expect(text).not.toMatch(/[\u2028\u2029]/);
  return allStrings(value);
}

function checkForm(text: string): string[] {
  expect(text).not.toMatch(/\s/);
  const segments = text.split("&");
  const decoded = segments.map((segment) => {
    expect(segment).toMatch(/^[A-Za-z0-9_.-]+=[A-Za-z0-9%._~!'()*,-]*$/);
    const [name, value] = segment.split("=") as [string, string];
    return [name, decodeURIComponent(value.replace(/\+/g, " "))] as const;
  });
  const parsed = [...new URLSearchParams(text)];
  expect(parsed).toEqual(decoded.map(([k, v]) => [k, v]));
  expect(new Set(parsed.map(([k]) => k)).size).toBe(parsed.length);
  return parsed.map(([, v]) => v);
}

const VOID_ELEMENTS = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]);
const NAME = "[A-Za-z_][\\w:.-]*";
const ATTRIBUTE = `\\s+${NAME}(?:\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))?`;
const TAG = new RegExp(`<(/?)(${NAME})((?:${ATTRIBUTE})*)\\s*(/?)>`, "y");
const SPECIAL = /<!--[\s\S]*?-->|<!DOCTYPE[^<>]*>|<\?xml[^<>]*\?>/iy;
const BAD_AMPERSAND = /&(?!#\d+;|#x[0-9a-f]+;|[a-z][a-z0-9]*;)/i;

/**
 * A small well-formedness check: every `<` starts a tag, comment, doctype or XML declaration; tags nest and
 * close (HTML void elements excepted); `&` only starts a character reference. Returns the text content.
 */
function checkMarkup(text: string, kind: "html" | "xml"): string[] {
  const stack: string[] = [];
  const texts: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const chunk = text.slice(i, lt === -1 ? text.length : lt);
    expect(chunk, `stray & in text near offset ${i}`).not.toMatch(BAD_AMPERSAND);
    if (kind === "xml" && stack.length === 0) expect(chunk.trim(), "text outside the root element").toBe("");
    texts.push(chunk);
    if (lt === -1) break;
    SPECIAL.lastIndex = lt;
    if (SPECIAL.test(text)) {
      i = SPECIAL.lastIndex;
      continue;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(text);
    if (m === null) throw new Error(`unescaped "<" at offset ${lt}: ${JSON.stringify(text.slice(lt, lt + 40))}`);
    const [, closing, rawName, attributes, selfClosing] = m as unknown as [string, string, string, string, string];
    expect(attributes, `stray & in the attributes of <${rawName}>`).not.toMatch(BAD_AMPERSAND);
    const name = kind === "html" ? rawName.toLowerCase() : rawName;
    if (closing) {
      expect(stack.pop(), `</${rawName}> closes the wrong element`).toBe(name);
    } else if (!selfClosing && !(kind === "html" && VOID_ELEMENTS.has(name))) {
      if (stack.length === 0) roots += 1;
      stack.push(name);
    } else if (stack.length === 0) {
      roots += 1;
    }
    i = TAG.lastIndex;
  }
  expect(stack, "unclosed elements").toEqual([]);
  expect(roots, "one root element").toBe(1);
  return texts;
}

/** Checks `text` is a valid document of its content type; returns the strings it carries (decoded where cheap). */
function checkValid(contentType: string, text: string): string[] {
  const kind = kindOf(contentType);
  if (kind === "json") return checkJson(text);
  if (kind === "form") return checkForm(text);
  return checkMarkup(text, kind);
}

// ---------- the tests ----------

describe("templates/", () => {
  it("holds at least eight templates, each listed in templates/README.md", () => {
    expect(templateIds.length).toBeGreaterThanOrEqual(8);
    const readme = projectFile(`${TEMPLATES_DIR}/README.md`);
    for (const id of templateIds) expect(readme, `README.md lists ${id}`).toContain(`\`${id}\``);
  });

  it("partials are templates/partials/*.hbs without a trailing newline (they are used inline)", () => {
    expect(Object.keys(partials).length).toBeGreaterThan(0);
    for (const [name, source] of Object.entries(partials)) expect(source.endsWith("\n"), name).toBe(false);
  });

  it("partials say a call with no talk time (unanswered, or a PBX that leaves it out) took 0 s, leaving no gap", () => {
    const sample = allNull(load(templateIds[0]).sample);
    const rendered = (name: string) => renderTemplate(`{{> ${name}}}`, evaluationContext({ ...sample, direction: "inbound", src: "+15551234567" }, {}), { partials });
    expect(rendered("talk_time")).toBe("0 s");
    expect(rendered("call_summary")).toMatch(/, talk time 0 s$/);
  });
});

describe.each(templateIds)("template %s", (id) => {
  const t = load(id);

  it("has complete, sane metadata", () => {
    const { meta } = t;
    for (const key of ["name", "description", "content_type", "url", "notes"] as const) {
      expect(typeof meta[key], key).toBe("string");
      expect(meta[key].trim().length, key).toBeGreaterThan(0);
    }
    expect(BODY_METHODS).toContain(meta.method);
    expect(escapeModeFor(meta.content_type), "content_type has an escape mode").not.toBe("none");
    expect(new URL(meta.url).protocol).toBe("https:");
    expect(typeof meta.headers).toBe("object");
    for (const value of Object.values(meta.headers)) expect(typeof value).toBe("string");
    expect(meta.events.length).toBeGreaterThan(0);
    for (const event of meta.events) expect(EVENT_TYPES).toContain(event);
    if (meta.filter !== null) {
      expect(typeof meta.filter).toBe("string");
      expect(() => compileExpression(meta.filter!)).not.toThrow();
    }
    for (const [cause, name] of Object.entries(meta.hangup_causes ?? {})) {
      expect(HANGUP_CAUSES).toContain(cause);
      expect(typeof name).toBe("string");
    }
    expect(t.expectedFile).toBe(`expected.${EXTENSION[kindOf(meta.content_type)]}`);
  });

  it("has a complete canonical sample event that the suggested rule matches", async () => {
    const { sample, meta } = t;
    expect(Object.keys(sample).sort()).toEqual([...CANONICAL_FIELDS].sort());
    expect(callFieldsSchema.safeParse(sample).success).toBe(true);
    expect(EVENT_TYPES).toContain(sample.type);
    expect(DIRECTIONS).toContain(sample.direction);
    expect(CALL_STATUSES).toContain(sample.status);
    expect(sample.event_id).toMatch(/^evt_/);
    expect(meta.events).toContain(sample.type);
    if (meta.filter !== null) expect(await evaluateExpression(meta.filter, sample)).toBe(true);
  });

  it(`renders the sample exactly as ${t.expectedFile}`, () => {
    expect(render(t, t.sample)).toBe(t.expected);
  });

  it("renders valid output for its content type", () => {
    checkValid(t.meta.content_type, render(t, t.sample));
  });

  it("stays valid with a hostile caller name, no agent, no recording, no tags, a missed call", () => {
    const out = render(t, hostile(t.sample));
    const strings = checkValid(t.meta.content_type, out);
    const kind = kindOf(t.meta.content_type);
    if (kind === "html" || kind === "xml") {
      // The name arrives escaped, never as markup.
      expect(out).not.toContain("<O'Neil>");
      if (out.includes("Jane")) expect(out).toContain("Jane &quot;JJ&quot; &lt;O&#x27;Neil&gt; &amp; Co");
    } else {
      // Wherever the name appears, it decodes back whole: nothing cut or mangled.
      for (const s of strings.filter((s) => s.includes("Jane"))) expect(s).toContain(HOSTILE_NAME);
    }
  });

  it("stays valid when every nullable field is null", () => {
    checkValid(t.meta.content_type, render(t, allNull(t.sample)));
  });
});

// ---------- end to end, through POST /api/preview of the real gateway ----------

/** Templates that do not depend on the gateway-assigned fields (event_id, source, source_id, raw) preview identically. */
const GATEWAY_FIELDS = /\{\{[^}]*\b(?:event_id|source_id|source|raw)\b[^}]*\}\}/;
const e2eIds = templateIds.filter((id) => !GATEWAY_FIELDS.test(projectFile(`${TEMPLATES_DIR}/${id}/template.hbs`)));

describe("templates through POST /api/preview", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it("covers at least two templates of different content types", () => {
    expect(e2eIds.length).toBeGreaterThanOrEqual(2);
    expect(new Set(e2eIds.map((id) => kindOf(load(id).meta.content_type))).size).toBeGreaterThanOrEqual(2);
  });

  it.each(e2eIds)("%s: the gateway renders the expected body", async (id) => {
    const t = load(id);
    const { event_id: _id, source: _source, source_id: _sourceId, raw: _raw, ...posted } = t.sample;
    const { meta } = t;
    const { status, body } = await gw.api("POST", "/api/preview", {
      webhook: {
        url: meta.url,
        method: meta.method,
        content_type: meta.content_type,
        body_template: t.source,
        events: meta.events,
        filter: meta.filter,
        hangup_causes: meta.hangup_causes ?? {},
      },
      event: posted,
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.body).toBe(t.expected);
    expect(body.headers["content-type"]).toBe(meta.content_type);
    expect(body.matches).toBe(true);
  });
});

import { Validator } from "@cfworker/json-schema";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { deliveryFilterSchema, recoverRequestSchema, replayRequestSchema } from "../src/domain/delivery.js";
import { eventFilterSchema } from "../src/domain/event.js";
import { pageSchema } from "../src/api/list-query.js";
import { previewEventSchema, previewSchema } from "../src/api/preview.js";
import { sourceViewSchema } from "../src/api/view-schemas.js";
import { createWebhookRequestSchema } from "../src/api/webhook-create.js";
import { createSourceSchema, patchSourceSchema } from "../src/domain/source.js";
import { patchWebhookSchema } from "../src/domain/webhook.js";
import { allPresets } from "../src/presets/registry.js";
import { projectJson } from "./support/files.js";
import { createSource, createWebhook, startGateway, type TestGateway } from "./support/gateway.js";

let gw: TestGateway;
let doc: any;

beforeEach(async () => {
  gw = await startGateway();
  const answer = await gw.send("/openapi.json", { method: "GET" });
  expect(answer.status).toBe(200);
  expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  doc = answer.body;
});
afterEach(() => gw.stop());

/** What zod says a request may send, as the document should show it (without the `$schema` dialect marker). */
function zodSchema(schema: z.ZodType) {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12" });
  return rest;
}

const METHODS = ["get", "post", "put", "patch", "delete"];
const operations = () =>
  Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, op: item[method], item })),
  );
const requestBodySchema = (path: string, method: string) => doc.paths[path]?.[method]?.requestBody?.content["application/json"].schema;

/** A node of the document, its `$ref`s followed. */
function resolved(node: any): any {
  if (typeof node?.$ref !== "string") return node;
  return resolved(node.$ref.replace(/^#\//, "").split("/").reduce((inner: any, key: string) => inner?.[key], doc));
}

/** Every `$ref` in the document, with where it was found. */
function refsOf(value: unknown, at = "#"): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) return value.flatMap((item, i) => refsOf(item, `${at}/${i}`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === "$ref" ? [{ ref: inner as string, at }] : refsOf(inner, `${at}/${key}`),
  );
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document, served without a token, with every route of the API", async () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.adminToken).toEqual(expect.objectContaining({ type: "http", scheme: "bearer" }));
    expect(doc.security).toEqual([{ adminToken: [] }]);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/api/deliveries", "/api/deliveries/{id}", "/api/deliveries/{id}/retry", "/api/events", "/api/events/{id}",
        "/api/presets", "/api/presets/{id}", "/api/preview", "/api/samples", "/api/sources", "/api/sources/{id}",
        "/api/webhooks", "/api/webhooks/{id}", "/api/webhooks/{id}/preview", "/api/webhooks/{id}/recover", "/api/webhooks/{id}/replay-missing",
        "/api/webhooks/{id}/test",
        "/health", "/ingest/{sourceId}", "/metrics", "/openapi.json",
      ].sort(),
    );
    for (const { path, method, op, item } of operations()) {
      expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries<any>(op.responses)) {
        expect(response.$ref ?? response.description, `${method} ${path} ${status}`).toEqual(expect.any(String));
      }
      // Every {param} of the path template is declared as a path parameter, and nothing else is.
      const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].filter((p: any) => p.in === "path").map((p: any) => p.name);
      expect(declared.sort(), `${method} ${path}`).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
    }
    for (const { ref, at } of refsOf(doc)) {
      const target = ref.replace(/^#\//, "").split("/").reduce((node: any, key) => node?.[key], doc);
      expect(target, `${ref} at ${at}`).toBeDefined();
    }
  });

  it("shows the request bodies and query parameters the routes validate with, as zod generates them", () => {
    expect(requestBodySchema("/api/sources", "post")).toEqual(zodSchema(createSourceSchema));
    expect(requestBodySchema("/api/sources/{id}", "patch")).toEqual(zodSchema(patchSourceSchema));
    expect(requestBodySchema("/api/webhooks", "post")).toEqual(zodSchema(createWebhookRequestSchema));
    expect(requestBodySchema("/api/webhooks/{id}", "patch")).toEqual(zodSchema(patchWebhookSchema));
    expect(requestBodySchema("/api/webhooks/{id}/preview", "post")).toEqual(zodSchema(previewEventSchema.strict()));
    expect(requestBodySchema("/api/webhooks/{id}/test", "post")).toEqual(zodSchema(previewEventSchema.strict()));
    expect(requestBodySchema("/api/preview", "post")).toEqual(zodSchema(previewSchema));
    expect(requestBodySchema("/api/webhooks/{id}/recover", "post")).toEqual(zodSchema(recoverRequestSchema));
    expect(requestBodySchema("/api/webhooks/{id}/recover", "post").required).toEqual(["since"]);
    expect(requestBodySchema("/api/webhooks/{id}/replay-missing", "post")).toEqual(zodSchema(replayRequestSchema));
    expect(requestBodySchema("/api/webhooks/{id}/replay-missing", "post").required).toEqual(["since"]);
    // Spot checks that the generated schemas carry the contract: required fields, enums, strictness.
    const [custom, preset] = requestBodySchema("/api/webhooks", "post").oneOf;
    expect(custom.required.sort()).toEqual(["events", "name", "url"]);
    expect(custom.properties.preset).toEqual({ type: "null" });
    expect(preset.required.sort()).toEqual(["name", "preset"]);
    expect(preset.properties.preset.enum).toEqual(allPresets().map((p) => p.id));
    expect(custom.properties.method.enum).toEqual(["GET", "POST", "POST_JSON", "PUT", "PATCH"]);
    expect(requestBodySchema("/api/sources", "post").additionalProperties).toBe(false);

    const query = (path: string) => Object.fromEntries(doc.paths[path].get.parameters.map((p: any) => [p.name, p.schema]));
    expect(query("/api/events")).toEqual({ ...zodSchema(eventFilterSchema).properties, ...zodSchema(pageSchema).properties });
    expect(query("/api/deliveries")).toEqual({ ...zodSchema(deliveryFilterSchema).properties, ...zodSchema(pageSchema).properties });
    expect(query("/api/deliveries").status.enum).toEqual(["pending", "delivering", "delivered", "failed"]);
  });

  it("describes the fields of every JSON answer, from the zod schemas the views are typed with; secrets masked as strings", () => {
    /** A schema that says which fields there are: an object's properties, or alternatives that each do. */
    const namesFields = (node: any): boolean => {
      const schema = resolved(node);
      const alternatives = schema.anyOf ?? schema.oneOf;
      return alternatives ? alternatives.every(namesFields) : schema.properties !== undefined;
    };
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries<any>(op.responses)) {
        const json = resolved(response).content?.["application/json"];
        if (json) expect(namesFields(json.schema), `${method} ${path} ${status}`).toBe(true);
      }
    }
    // zod's output side, open to fields a later version adds (a client validating answers keeps working).
    const { $schema: _dialect, additionalProperties, ...source } = z.toJSONSchema(sourceViewSchema, { io: "output", target: "draft-2020-12" });
    expect(additionalProperties).toBe(false);
    expect(doc.components.schemas.Source).toEqual(source);
    expect(JSON.stringify(doc.components.schemas)).not.toContain('"additionalProperties":false');
    for (const secret of [doc.components.schemas.Source.properties.secret, doc.components.schemas.Webhook.properties.secret]) {
      expect(secret).toEqual({ type: "string", description: expect.stringContaining("masked") });
    }
    expect(doc.components.schemas.EventDetail.properties.deliveries.items).toEqual({ $ref: "#/components/schemas/Delivery" });
    // What a stored request keeps to fill its secrets in when sent (secrets_mark, _escape, _for) is never shown.
    expect(Object.keys(doc.components.schemas.Request.properties)).toEqual(["method", "url", "headers", "body", "meta", "sqs"]);
  });

  it("describes the webhook create body the API accepts: a preset rule without url and events, not a custom one", async () => {
    const documented = new Validator(requestBodySchema("/api/webhooks", "post"), "2020-12");
    const cases = [
      { body: { name: "Tradersoft", preset: "tradersoft", preset_config: { base_url: "https://crm.example.com", secret_key: "k-123" } }, status: 201 },
      { body: { name: "Custom", events: ["call.end"], url: "https://crm.example.com/calls", preset: null }, status: 201 },
      // URL schemes are case-insensitive, for the server and the document alike.
      { body: { name: "Upper case", events: ["call.end"], url: "HTTPS://crm.example.com/calls" }, status: 201 },
      { body: { name: "Custom", events: ["call.end"], params: { phone: "src" } }, status: 400, field: "url" },
      { body: { name: "Custom", url: "https://crm.example.com/calls" }, status: 400, field: "events" },
      { body: { name: "Unknown", preset: "hubspot" }, status: 400, field: "preset" },
      { body: { preset: "tradersoft", preset_config: { base_url: "https://crm.example.com", secret_key: "k-123" } }, status: 400, field: "name" },
    ];
    for (const { body, status, field } of cases) {
      const label = JSON.stringify(body);
      expect(documented.validate(body).valid, label).toBe(status === 201);
      const answer = await gw.api("POST", "/api/webhooks", body);
      expect(answer.status, `${label}: ${JSON.stringify(answer.body)}`).toBe(status);
      if (field) expect(answer.body.error.details.map((d: { field: string }) => d.field), label).toEqual([field]);
    }
    const created = (await gw.api("GET", "/api/webhooks")).body.data.find((w: { preset: string | null }) => w.preset === "tradersoft");
    expect(created.url).toBe("{{{config.base_url}}}{{{config.path}}}");
    expect(created.events.length).toBeGreaterThan(0);
  });

  it("documents the error envelope, and routes that exist: each path answers other than `no route`", async () => {
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
    expect(doc.paths["/api/webhooks"].post.responses["400"]).toEqual({ $ref: "#/components/responses/Error400" });
    for (const { path, method, op } of operations()) {
      const concrete = path.replace(/\{\w+\}/g, "missing");
      const headers: Record<string, string> = { authorization: "Bearer test-admin-token-0123456789" };
      const init: RequestInit = { method: method.toUpperCase(), headers };
      if (op.requestBody) Object.assign(init, { body: "{}", headers: { ...headers, "content-type": "application/json" } });
      const answer = await gw.send(concrete, init);
      expect(answer.body?.error?.message ?? "", `${method} ${concrete}`).not.toMatch(/^No route for/);
      expect(answer.status, `${method} ${concrete}`).toBeLessThan(500);
    }
  });

  it("documents the error statuses the routes answer, each body in the shape the document gives", async () => {
    const source = await createSource(gw);
    const rule = await createWebhook(gw, { url: "https://crm.example.com/calls", source_ids: [source.id] });
    const large = "x".repeat(600 * 1024);
    const cases = [
      { method: "post", path: "/api/sources", answer: await gw.api("POST", "/api/sources", { name: large, kind: "canonical" }), status: 413 },
      { method: "patch", path: "/api/sources/{id}", answer: await gw.api("PATCH", `/api/sources/${source.id}`, { name: large }), status: 413 },
      { method: "post", path: "/api/webhooks", answer: await gw.api("POST", "/api/webhooks", { name: "big", body_template: large }), status: 413 },
      { method: "patch", path: "/api/webhooks/{id}", answer: await gw.api("PATCH", `/api/webhooks/${rule.id}`, { body_template: large }), status: 413 },
      { method: "post", path: "/api/preview", answer: await gw.api("POST", "/api/preview", { webhook: { body_template: large } }), status: 413 },
      { method: "delete", path: "/api/sources/{id}", answer: await gw.api("DELETE", `/api/sources/${source.id}`), status: 409 },
    ];
    for (const { method, path, answer, status } of cases) {
      const label = `${method} ${path} ${status}`;
      expect(answer.status, label).toBe(status);
      const documented = resolved(doc.paths[path][method].responses[status]);
      expect(documented, label).toBeDefined();
      const schema = resolved(documented.content["application/json"].schema);
      expect(new Validator(schema, "2020-12").validate(answer.body).valid, `${label}: ${JSON.stringify(answer.body)}`).toBe(true);
    }
  });

  it("leaves the public routes open and guards ingest with the source's secret", () => {
    for (const path of ["/health", "/openapi.json"]) expect(doc.paths[path].get.security).toEqual([]);
    expect(doc.paths["/metrics"].get.security).toEqual([{}, { metricsToken: [] }]);
    expect(doc.paths["/ingest/{sourceId}"].post.security).toEqual([{ sourceSecret: [] }, { sourceSignature: [] }, { pbxToken: [] }, { sourceToken: [] }]);
  });

  it("documents what a VoIPAppz webhook sends: the secret and event in the query, JSON under any Content-Type", async () => {
    const source = await createSource(gw, "VoIPAppz", "voipappz");
    const answer = await gw.send(`/ingest/${source.id}?token=${encodeURIComponent(source.secret)}&event=Call:Hangup`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(projectJson("test/fixtures/voipappz/call-hangup.json")),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);

    const ingest = doc.paths["/ingest/{sourceId}"].post;
    const query = ingest.parameters.filter((p: { in: string }) => p.in === "query").map((p: { name: string }) => p.name);
    expect(query.sort()).toEqual(["event", "token"]);
    const schemes = ingest.security.flatMap((requirement: object) => Object.keys(requirement)).map((name: string) => doc.components.securitySchemes[name]);
    expect(schemes).toContainEqual(expect.objectContaining({ type: "apiKey", in: "query", name: "token" }));
    expect(Object.keys(ingest.requestBody.content)).toContain("*/*");
  });
});

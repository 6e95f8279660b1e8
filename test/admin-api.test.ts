import { describe, expect, it } from "vitest";
import { SAMPLE_PAYLOADS } from "../src/sources/samples.js";
import { callEvent } from "./support/events.js";
import { projectJson } from "./support/files.js";
import { ADMIN_TOKEN, createSource, createWebhook, ingest } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { Receiver } from "./support/receiver.js";

const t = gatewayPerTest({ source: false });

describe("authentication", () => {
  it("requires the admin bearer token on /api", async () => {
    const none = await t.gw.send("/api/webhooks", {});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await t.gw.send("/api/webhooks", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("unauthorized");
    expect((await t.gw.api("GET", "/api/webhooks")).status).toBe(200);
    expect((await t.gw.send("/health", {})).body).toEqual({ status: "ok", database: "ok" });
  });
});

describe("sources", () => {
  it("creates, lists, updates and deletes; the secret is shown once, then masked", async () => {
    const created = await t.gw.api("POST", "/api/sources", { name: "Office PBX", kind: "canonical" });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^sk_.{40,}/);
    expect(created.body.ingest_url).toBe(`${t.gw.url}/ingest/${created.body.id}`);

    const listed = await t.gw.api("GET", "/api/sources");
    expect(listed.body.data[0].secret).toBe(`****${created.body.secret.slice(-4)}`);

    const pasted = await t.gw.api("POST", "/api/sources", { name: "Wildix-like", kind: "canonical", secret: "pasted-secret-123" });
    expect(pasted.body.secret).toBe("pasted-secret-123");

    const renamed = await t.gw.api("PATCH", `/api/sources/${created.body.id}`, { name: "Renamed", secret: listed.body.data[0].secret });
    expect(renamed.body.name).toBe("Renamed");
    // The masked secret sent back keeps the stored one.
    const still = await ingest(t.gw, { id: created.body.id, secret: created.body.secret }, callEvent());
    expect(still.status).toBe(202);

    expect((await t.gw.api("DELETE", `/api/sources/${created.body.id}`)).status).toBe(204);
    expect((await t.gw.api("GET", `/api/sources/${created.body.id}`)).status).toBe(404);
  });

  it("names every invalid field", async () => {
    const bad = await t.gw.api("POST", "/api/sources", { kind: "fax", secret: "short", extra: 1 });
    expect(bad.status).toBe(400);
    const fields = bad.body.error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(["extra", "kind", "name", "secret"]);
    expect(bad.body.error.details.find((d: { field: string }) => d.field === "kind").message).toContain("wildix");
  });

  it("is not deleted while a rule names it", async () => {
    const office = await createSource(t.gw, "Office");
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/x`, source_ids: [office.id] });
    const refused = await t.gw.api("DELETE", `/api/sources/${office.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "conflict", details: { webhook_ids: [rule.id] } });
    expect(refused.body.error.message).toContain("take it out of their source_ids first, or disable the source");
    expect((await t.gw.api("GET", `/api/sources/${office.id}`)).status).toBe(200);

    await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { source_ids: [] });
    expect((await t.gw.api("DELETE", `/api/sources/${office.id}`)).status).toBe(204);
  });
});

describe("webhooks", () => {
  it("masks every header whose name looks like a credential, and no other", async () => {
    for (const name of ["X-Credentials", "X-Api-Pass", "X-Private", "X-Session-Id", "X-Auth-User", "Cookie"]) {
      const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/x`, headers: { [name]: "value-1234567890abcdef", "X-Agent": "{{agent.extension}}" } });
      expect(rule.headers, name).toEqual({ [name]: "****cdef", "X-Agent": "{{agent.extension}}" });
    }
  });

  it("creates with PBX Stats defaults, masks secrets after creation, and patches only what is named", async () => {
    const created = await createWebhook(t.gw, {
      url: `${t.receiver.url}/x`,
      headers: { "X-Api-Key": "key-1234567890abcdef", Authorization: "Bearer crm-token-0123456789" },
    });
    expect(created).toMatchObject({
      enabled: true,
      method: "POST_JSON",
      retries: 3,
      delay_seconds: 0,
      timeout_ms: 5000,
      signing: "standard",
      call_types: [],
      source_ids: [],
      filter: null,
    });
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.headers["X-Api-Key"]).toBe("****cdef");

    const shown = (await t.gw.api("GET", `/api/webhooks/${created.id}`)).body;
    expect(shown.secret).toBe(`****${created.secret.slice(-4)}`);

    const patched = await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { enabled: false, headers: shown.headers });
    expect(patched.status).toBe(200);
    expect(patched.body.enabled).toBe(false);
    expect(patched.body.retries).toBe(3);

    // The masked header came back unchanged: the real key is still what gets sent.
    await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { enabled: true });
    const source = await createSource(t.gw);
    await ingest(t.gw, source, callEvent());
    await t.gw.settle();
    expect(t.receiver.requests[0].headers["x-api-key"]).toBe("key-1234567890abcdef");
    expect(t.receiver.requests[0].headers.authorization).toBe("Bearer crm-token-0123456789");

    expect((await t.gw.api("DELETE", `/api/webhooks/${created.id}`)).status).toBe(204);
    expect((await t.gw.api("GET", `/api/webhooks/${created.id}`)).status).toBe(404);
    expect((await t.gw.api("DELETE", `/api/webhooks/${created.id}`)).status).toBe(404);
  });

  it("keeps a credential sent back masked under its name in another case, and refuses a masked value it has no credential for", async () => {
    const created = await createWebhook(t.gw, { url: `${t.receiver.url}/x`, headers: { "X-Api-Key": "key-1234567890abcdef" } });
    // The name retyped in another case (HTTP names ignore case): still the same credential.
    const recased = await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { headers: { "x-api-key": "****cdef" } });
    expect(recased.status, JSON.stringify(recased.body)).toBe(200);
    expect(recased.body.headers).toEqual({ "x-api-key": "****cdef" });
    const source = await createSource(t.gw);
    await ingest(t.gw, source, callEvent());
    await t.gw.settle();
    expect(t.receiver.requests[0].headers["x-api-key"]).toBe("key-1234567890abcdef");

    // Renamed, the masked text would be sent as the credential: refused, naming the header.
    for (const masked of ["****cdef", "****", "Bearer ****cdef"]) {
      const renamed = await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { headers: { "X-Api-Token": masked } });
      expect(renamed.status).toBe(400);
      expect(renamed.body.error.details).toEqual([
        { field: "headers.X-Api-Token", message: "is how a stored credential is shown, not one: give the credential itself" },
      ]);
    }
    expect((await t.gw.api("GET", `/api/webhooks/${created.id}`)).body.headers).toEqual({ "x-api-key": "****cdef" });
  });

  it("says when a rule was turned off by hand, keeps it through other edits, and forgets it once enabled", async () => {
    const created = await createWebhook(t.gw, { url: `${t.receiver.url}/x`, enabled: false });
    const byHand = (at: string) => ({ at, reason: "manual", delivery_id: null, status_code: null });
    expect(created.disabled).toEqual(byHand(created.created_at));
    expect((await createWebhook(t.gw, { url: `${t.receiver.url}/y` })).disabled).toBeNull();

    t.gw.clock.advance(60_000);
    const enabled = await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabled: null });
    t.gw.clock.advance(60_000);
    const disabled = await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { enabled: false });
    expect(disabled.body.disabled).toEqual(byHand(new Date(t.gw.clock.now()).toISOString()));
    // Other edits, and saying enabled: false again, leave when and why as they were.
    t.gw.clock.advance(60_000);
    await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { name: "Renamed", enabled: false });
    const shown = (await t.gw.api("GET", `/api/webhooks/${created.id}`)).body;
    expect(shown).toMatchObject({ name: "Renamed", enabled: false, disabled: disabled.body.disabled });
    expect((await t.gw.api("GET", "/api/webhooks")).body.data.find((w: { id: string }) => w.id === created.id).disabled).toEqual(disabled.body.disabled);
    // Not something a client sets.
    expect((await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { disabled: null })).status).toBe(400);
  });

  it("answers an invalid rule with 400 naming each field", async () => {
    const bad = await t.gw.api("POST", "/api/webhooks", {
      name: "",
      events: ["call.exploded"],
      method: "DELETE",
      url: "ftp://example.com",
      retries: -1,
      params: { a: "src" },
      body_template: "{}",
      headers: { "Bad Header": "x" },
    });
    expect(bad.status).toBe(400);
    const fields = bad.body.error.details.map((d: { field: string }) => d.field);
    for (const field of ["name", "events.0", "method", "url", "retries", "headers.Bad Header"]) {
      expect(fields).toContain(field);
    }
    // In plain words, not the validator's ("Too small: expected string to have >=1 characters").
    const messages = Object.fromEntries(bad.body.error.details.map((d: { field: string; message: string }) => [d.field, d.message]));
    expect(messages).toMatchObject({
      name: "must not be empty",
      method: 'must be one of "GET", "POST", "POST_JSON", "PUT", "PATCH"',
      retries: "must be at least 0",
      "headers.Bad Header": "is not a valid header name",
    });
    const sparse = await t.gw.api("POST", "/api/webhooks", { name: "x", events: [], url: "https://example.com", retries: 99, timeout_ms: "soon" });
    expect(sparse.body.error.details).toEqual(
      expect.arrayContaining([
        { field: "events", message: "must have at least one item" },
        { field: "retries", message: "must be at most 20" },
        { field: "timeout_ms", message: "must be a number" },
      ]),
    );
    const both = await t.gw.api("POST", "/api/webhooks", {
      name: "x", events: ["call.end"], url: "https://example.com", params: { a: "src" }, body_template: "{}",
    });
    expect(both.status).toBe(400);
    expect(both.body.error.details[0].field).toBe("body_template");
    const unknownSource = await t.gw.api("POST", "/api/webhooks", {
      name: "x", events: ["call.end"], url: "https://example.com", source_ids: ["src_missing"],
    });
    expect(unknownSource.status).toBe(400);
    expect(unknownSource.body.error.details[0].field).toBe("source_ids.0");
  });

  it("refuses headers the HTTP layer sets from the URL and body, one header named twice, and header values with control characters", async () => {
    const rule = { name: "x", events: ["call.end"], url: "https://example.com" };
    for (const name of ["Content-Length", "transfer-encoding", "Connection", "Keep-Alive", "Upgrade", "Expect", "TE", "Trailer", "Host"]) {
      const bad = await t.gw.api("POST", "/api/webhooks", { ...rule, headers: { [name]: "5" } });
      expect(bad.status, name).toBe(400);
      expect(bad.body.error.details, name).toEqual([
        { field: `headers.${name}`, message: "is set by the gateway's HTTP layer from the URL and body: leave it out" },
      ]);
    }
    const control = await t.gw.api("POST", "/api/preview", { webhook: { url: "https://example.com", headers: { "X-Name": "a\u0001b" } } });
    expect(control.status).toBe(400);
    expect(control.body.error.details).toEqual([
      { field: "headers.X-Name", message: "contains a control character, which a header value cannot carry (tab excepted)" },
    ]);
    expect((await t.gw.api("POST", "/api/webhooks", { ...rule, headers: { "X-Tabbed": "a\tb" } })).status).toBe(201);
    // One header under two spellings: Node would send two lines, Workers one joined value.
    const twins = await t.gw.api("POST", "/api/webhooks", { ...rule, headers: { "X-Api-Key": "a", "x-api-key": "b" } });
    expect(twins.status).toBe(400);
    expect(twins.body.error.details).toEqual([{ field: "headers.x-api-key", message: 'is the same header as "X-Api-Key" (names ignore case): keep one' }]);
  });

  it("refuses a URL with user:password or a #fragment, which would be shown but never sent", async () => {
    const rule = { name: "x", events: ["call.end"] };
    const credentials = "user:password in a URL is never sent: put the credentials in an Authorization header instead";
    const fragment = "a #fragment is never sent: leave it out (a # inside a value is written %23)";
    for (const [url, message] of [
      ["http://user:pass@example.com/calls", credentials],
      ["https://{{{config.user}}}:x@example.com/", credentials],
      ["https://example.com/calls#top", fragment],
      ["https://example.com/calls?ext={{agent.extension}}#{{src}}", fragment],
    ]) {
      const bad = await t.gw.api("POST", "/api/webhooks", { ...rule, url });
      expect(bad.status, url).toBe(400);
      expect(bad.body.error.details, url).toEqual([{ field: "url", message }]);
    }
    for (const url of ["https://example.com/c?email=a@example.com", "https://example.com/{{#if src}}in{{else}}out{{/if}}"]) {
      expect((await t.gw.api("POST", "/api/webhooks", { ...rule, url })).status, url).toBe(201);
    }
    const preset_config = { instance_url: "https://u:p@acme.my.salesforce.com", client_id: "id", client_secret: "secret" };
    const presetUrl = await t.gw.api("POST", "/api/webhooks", { name: "sf", preset: "salesforce", preset_config });
    expect(presetUrl.status).toBe(400);
    expect(presetUrl.body.error.details).toEqual([
      { field: "preset_config.instance_url", message: "must not carry user:password, which is never sent" },
    ]);
  });

  it("refuses a content type naming a charset other than UTF-8, since bodies are sent as UTF-8", async () => {
    const rule = { name: "x", events: ["call.end"], url: "https://example.com", body_template: "{{caller_name}}" };
    for (const content_type of ["text/plain; charset=iso-8859-1", 'text/plain;charset="windows-1252"', "text/csv; CHARSET=us-ascii"]) {
      const bad = await t.gw.api("POST", "/api/webhooks", { ...rule, content_type });
      expect(bad.status, content_type).toBe(400);
      expect(bad.body.error.details, content_type).toEqual([
        { field: "content_type", message: "bodies are sent as UTF-8: name charset=utf-8, or no charset" },
      ]);
    }
    for (const content_type of ["text/plain; charset=UTF-8", 'application/json; charset="utf-8"', "text/plain", "application/xml; charset=utf8"]) {
      expect((await t.gw.api("POST", "/api/webhooks", { ...rule, content_type })).status, content_type).toBe(201);
    }
  });

  it("refuses a header the gateway sets on every attempt: webhook-id, the rule's signature, its preset's credentials", async () => {
    const rule = { name: "x", events: ["call.end"], url: "https://example.com" };
    const signedBy = (signing: string) => `the gateway sets it on every attempt (webhook-id, and the signature of signing "${signing}"): leave it out`;
    for (const [signing, name] of [["standard", "Webhook-Id"], ["standard", "Webhook-Signature"], ["hmac-hex", "X-Signature"], ["none", "webhook-id"]]) {
      const bad = await t.gw.api("POST", "/api/webhooks", { ...rule, signing, headers: { [name]: "mine" } });
      expect(bad.status, name).toBe(400);
      expect(bad.body.error.details, name).toEqual([{ field: `headers.${name}`, message: signedBy(signing) }]);
    }
    const unsigned = await t.gw.api("POST", "/api/webhooks", { ...rule, signing: "none", headers: { "X-Signature": "static" } });
    expect(unsigned.status).toBe(201);
    const signed = await t.gw.api("PATCH", `/api/webhooks/${unsigned.body.id}`, { signing: "hmac-hex" });
    expect(signed.status).toBe(400);
    expect(signed.body.error.details).toEqual([{ field: "headers.X-Signature", message: signedBy("hmac-hex") }]);

    const preset_config = { instance_url: "https://acme.my.salesforce.com", client_id: "id", client_secret: "secret" };
    const sf = await t.gw.api("POST", "/api/webhooks", { name: "sf", preset: "salesforce", preset_config, headers: { Authorization: "Bearer mine" } });
    expect(sf.status).toBe(400);
    expect(sf.body.error.details).toEqual([{ field: "headers.Authorization", message: "the salesforce preset sets it on every attempt: leave it out" }]);
  });

  it("refuses a __proto__ key anywhere in a body, naming where, instead of dropping it", async () => {
    const params = JSON.parse('{"phone": "src", "\\u005f_proto__": "src"}');
    const bad = await t.gw.api("POST", "/api/webhooks", { name: "x", events: ["call.end"], url: "https://example.com", params });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ field: "params.__proto__", message: 'a key named "__proto__" is not accepted' }]);
    const nested = await t.gw.api("POST", "/api/preview", JSON.parse('{"webhook": {"headers": [{"__proto__": "x"}]}}'));
    expect(nested.status).toBe(400);
    expect(nested.body.error.details[0].field).toBe("webhook.headers.0.__proto__");
  });

  it("refuses a NUL character in any text of a body, naming where, instead of storing a name read back cut short", async () => {
    const source = await t.gw.api("POST", "/api/sources", { name: "Front desk\u0000 PBX", kind: "canonical" });
    expect(source.status).toBe(400);
    expect(source.body.error.details).toEqual([{ field: "name", message: "contains the character U+0000 (NUL), which cannot be stored" }]);
    expect((await t.gw.api("GET", "/api/sources")).body.data).toEqual([]);
    const rule = { name: "CRM\u0000 calls", events: ["call.end"], url: "https://example.com" };
    const named = await t.gw.api("POST", "/api/webhooks", rule);
    expect(named.status).toBe(400);
    expect(named.body.error.details[0].field).toBe("name");
    const header = await t.gw.api("POST", "/api/webhooks", { ...rule, name: "CRM calls", headers: { ["X-A\u0000"]: "b" } });
    expect(header.body.error.details).toEqual([{ field: "headers.X-A\u0000", message: "its name: contains the character U+0000 (NUL), which cannot be stored" }]);
    expect((await t.gw.api("GET", "/api/webhooks")).body.data).toEqual([]);
  });

  it("answers a JSONata or Handlebars syntax error with 422 saying where", async () => {
    const jsonata = await t.gw.api("POST", "/api/webhooks", {
      name: "x", events: ["call.end"], url: "https://example.com", filter: "bill_duration >", params: { a: "$round(" },
    });
    expect(jsonata.status).toBe(422);
    expect(jsonata.body.error.code).toBe("invalid_rule");
    const fields = jsonata.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(["filter", "params.a"]);
    expect(jsonata.body.error.details[0].message).toMatch(/position \d+/);

    const handlebars = await t.gw.api("POST", "/api/webhooks", {
      name: "x", events: ["call.end"], url: "https://example.com/{{#if x}}", body_template: '{\n  "a": {{src}\n}',
    });
    expect(handlebars.status).toBe(422);
    const details = handlebars.body.error.details;
    expect(details.map((d: { field: string }) => d.field)).toEqual(["body_template", "url"]);
    // In words, at the tag to fix (the console's "Go to line" reads the place): not the parser's grammar.
    expect(details[0].message).toBe("line 2, column 8: {{src} is not closed: end it with }}");
    expect(details[1].message).toBe("line 1, column 21: {{#if x}} is never closed: add {{/if}} where its block ends");
  });

  it("refuses a template naming a partial that does not exist, and takes those that render whatever the event", async () => {
    const rule = (body_template: string) => t.gw.api("POST", "/api/webhooks", { name: "x", events: ["call.end"], url: "https://example.com", body_template });
    const missing = await rule("<p>{{caller_name}}</p>\n  {{> nope}}");
    expect(missing.status).toBe(422);
    expect(missing.body.error.details).toEqual([{ field: "body_template", message: "line 2, column 3: The partial nope could not be found" }]);
    for (const fine of [
      "{{> call_summary}}",
      '{{#*inline "mine"}}{{src}}{{/inline}}{{#if bridged}}{{> mine}}{{/if}}',
      "{{#> nope}}a fallback{{/nope}}",
      "{{> (lookup . \"direction\")}}",
    ]) {
      expect((await rule(fine)).status, fine).toBe(201);
    }
  });

  it("refuses a call to a name that is no helper, which would fail every delivery, naming the helpers there are", async () => {
    const rule = (fields: object) => t.gw.api("POST", "/api/webhooks", { name: "x", events: ["call.end"], url: "https://example.com", ...fields });
    const helpers = "the helpers are if, unless, each, with, lookup, log, json, default, eq, ne, gt, gte, lt, lte, and, or, not, date, upper, lower, math, phone, uuid5 (a field takes no arguments: {{src}})";
    const typo = await rule({ body_template: '{\n  "status": "{{uppercase status}}"\n}', headers: { "X-Agent": "{{#if (shout agent.name)}}y{{/if}}" } });
    expect(typo.status).toBe(422);
    expect(typo.body.error.details).toEqual([
      { field: "body_template", message: `line 2, column 14: Missing helper: "uppercase": ${helpers}` },
      { field: "headers.X-Agent", message: `line 1, column 7: Missing helper: "shout": ${helpers}` },
    ]);
    expect((await t.gw.api("GET", "/api/webhooks")).body.data.filter((w: { name: string }) => w.name === "x")).toEqual([]);
    // A field, a section over one, a hash alone and Handlebars' own helpers are not calls that must fail.
    for (const fine of ["{{caller_name}}{{#agent}}{{name}}{{/agent}}{{nope a=1}}", '{{lookup agent "name"}}{{#each tags as |t|}}{{t}}{{/each}}']) {
      expect((await rule({ body_template: fine })).status, fine).toBe(201);
    }
  });

  it("answers malformed JSON, a wrong content type and unknown ids clearly", async () => {
    const malformed = await t.gw.send("/api/webhooks", {
      method: "POST", headers: { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/json" }, body: "{nope",
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("invalid_json");
    const text = await t.gw.send("/api/webhooks", {
      method: "POST", headers: { authorization: "Bearer test-admin-token-0123456789", "content-type": "text/plain" }, body: "{}",
    });
    expect(text.status).toBe(415);
    expect((await t.gw.api("PATCH", "/api/webhooks/wh_nope", { enabled: false })).status).toBe(404);
    expect((await t.gw.api("GET", "/api/deliveries/dlv_nope")).status).toBe(404);
    expect((await t.gw.api("POST", "/api/deliveries/dlv_nope/retry")).status).toBe(404);
    expect((await t.gw.api("GET", "/api/events/evt_nope")).status).toBe(404);
    expect((await t.gw.api("GET", "/api/nothing")).status).toBe(404);
    expect((await t.gw.api("GET", "/api/deliveries?status=lost")).status).toBe(400);
  });
});

describe("preview", () => {
  it("renders an unsaved rule against an inline event, the sample, or a stored event", async () => {
    const rule = {
      method: "GET",
      url: `${t.receiver.url}/p/{{agent.extension}}`,
      params: { phone: "src" },
      headers: { Authorization: "Bearer crm-secret-token-123456" },
    };
    const inline = await t.gw.api("POST", "/api/preview", { webhook: rule, event: callEvent({ src: "+4420" }) });
    expect(inline.status).toBe(200);
    expect(inline.body).toMatchObject({ method: "GET", url: `${t.receiver.url}/p/201?phone=%2B4420`, body: null, matches: true });
    expect(inline.body.headers.Authorization).toBe("Bearer ****3456");
    expect(inline.body.headers["webhook-signature"]).toMatch(/^\*\*\*\*/);
    expect(inline.body.headers["webhook-id"]).toBe("dlv_preview");

    const sample = await t.gw.api("POST", "/api/preview", { webhook: rule });
    expect(sample.body.url).toContain("phone=%2B15551234567");

    const source = await createSource(t.gw);
    const stored = await ingest(t.gw, source, callEvent({ src: "+3312" }));
    const fromStore = await t.gw.api("POST", "/api/preview", { webhook: rule, event_id: stored.body.event_id });
    expect(fromStore.body.url).toContain("phone=%2B3312");
    expect(fromStore.body.event_id).toBe(stored.body.event_id);

    expect(inline.body.unmatched).toBeNull();
    // Left out, the event is said why: the first of the rule's fields that leaves it out.
    const notMatching = await t.gw.api("POST", "/api/preview", { webhook: { ...rule, events: ["call.start"], call_types: ["outbound"] } });
    expect(notMatching.body).toMatchObject({ matches: false, unmatched: "events" });
    const otherCallType = await t.gw.api("POST", "/api/preview", { webhook: { ...rule, call_types: ["outbound"], filter: "false" } });
    expect(otherCallType.body).toMatchObject({ matches: false, unmatched: "call_types" });
    const filteredOut = await t.gw.api("POST", "/api/preview", { webhook: { ...rule, filter: "bill_duration > 600" } });
    expect(filteredOut.body).toMatchObject({ matches: false, unmatched: "filter" });

    // A rule for one source: an inline event or a sample, from no source, is taken as from it; a stored event is checked.
    const other = await createSource(t.gw, "other PBX");
    const forOne = { ...rule, source_ids: [source.id] };
    expect((await t.gw.api("POST", "/api/preview", { webhook: forOne, event: callEvent() })).body.matches).toBe(true);
    expect((await t.gw.api("POST", "/api/preview", { webhook: forOne, sample: "wildix" })).body.matches).toBe(true);
    expect((await t.gw.api("POST", "/api/preview", { webhook: forOne, event_id: stored.body.event_id })).body.matches).toBe(true);
    const fromOther = await ingest(t.gw, other, callEvent({ uniqueid: "other.1" }));
    expect((await t.gw.api("POST", "/api/preview", { webhook: forOne, event_id: fromOther.body.event_id })).body).toMatchObject({ matches: false, unmatched: "source_ids" });
  });

  it("warns of a body that is not the JSON its Content-Type says, and previews it as it will be sent", async () => {
    const template = (body: string) => ({ url: `${t.receiver.url}/j`, method: "POST_JSON", body_template: body, content_type: "application/json" });
    const unquoted = await t.gw.api("POST", "/api/preview", { webhook: template('{"phone": {{src}} }') });
    expect(unquoted.status, JSON.stringify(unquoted.body)).toBe(200);
    expect(unquoted.body.body).toBe('{"phone": +15551234567 }');
    const notJson = 'the body is not valid JSON, though its Content-Type is application/json: a value may need quotes ("{{x}}"), or a default where it renders nothing ({{default x 0}})';
    expect(unquoted.body.warnings).toEqual([notJson]);
    // A number the event lacks (an unanswered call's talk time) renders nothing, leaving the member without a value.
    const unanswered = { type: "call.end", uniqueid: "1.2", status: "no_answer", bill_duration: null };
    const empty = await t.gw.api("POST", "/api/preview", { webhook: template('{"minutes": {{math bill_duration "/" 60}} }'), event: unanswered });
    expect(empty.body.body).toBe('{"minutes":  }');
    expect(empty.body.warnings).toEqual([notJson]);
    const quoted = await t.gw.api("POST", "/api/preview", { webhook: template('{"phone": "{{src}}" }') });
    expect(quoted.body.warnings).toEqual([]);
    const text = await t.gw.api("POST", "/api/preview", { webhook: { ...template("phone={{src}}"), content_type: "text/plain" } });
    expect(text.body.warnings).toEqual([]);
  });

  it("reports a render error as 422 with the failing field", async () => {
    const broken = await t.gw.api("POST", "/api/preview", {
      webhook: { url: `${t.receiver.url}/p`, params: "src" },
    });
    expect(broken.status).toBe(422);
    expect(broken.body.error.details[0].field).toBe("params");
    // The detail says what is wrong where (line and column), without repeating the field's name.
    const template = await t.gw.api("POST", "/api/preview", {
      webhook: { url: `${t.receiver.url}/p`, body_template: '{\n  "a": "{{date end_at tz=\'Mars/Base\'}}"\n}' },
    });
    expect(template.status).toBe(422);
    expect(template.body.error.message).toBe('body_template: line 2, column 9: date: unknown time zone "Mars/Base"');
    expect(template.body.error.details).toEqual([{ field: "body_template", message: 'line 2, column 9: date: unknown time zone "Mars/Base"' }]);
    const invalid = await t.gw.api("POST", "/api/preview", { webhook: { url: "nope" } });
    expect(invalid.status).toBe(400);
  });

  it("reports a URL that renders user:password or a #fragment as 422 on url; {{value}} encodes a # in the value", async () => {
    const preview = (url: string, caller_name: string) =>
      t.gw.api("POST", "/api/preview", { webhook: { method: "GET", url, params: { n: "src" } }, event: callEvent({ caller_name }) });
    const credentials = await preview("http://{{{caller_name}}}/calls", "user:pass@example.com");
    expect(credentials.status).toBe(422);
    expect(credentials.body.error.details).toEqual([{
      field: "url",
      message: "the rendered URL carries user:password, which is never sent: put the credentials in an Authorization header instead",
    }]);
    const fragment = await preview(`${t.receiver.url}/calls?name={{{caller_name}}}`, "Jane#e");
    expect(fragment.status).toBe(422);
    expect(fragment.body.error.details).toEqual([{
      field: "url",
      message: "the rendered URL has a #fragment, which is never sent: insert the value with {{value}} (URL-encoded), not {{{value}}}",
    }]);
    const encoded = await preview(`${t.receiver.url}/calls?name={{caller_name}}`, "Jane#e");
    expect(encoded.status).toBe(200);
    expect(encoded.body.url).toBe(`${t.receiver.url}/calls?name=Jane%23e&n=%2B15551234567`);
  });

  it("refuses a URL whose path a value turns into a . or .. segment, which would send the request to another path", async () => {
    const url = `${t.receiver.url}/api/contacts/{{caller_name}}/calls`;
    const preview = (template: string, caller_name: string) =>
      t.gw.api("POST", "/api/preview", { webhook: { method: "GET", url: template, params: { n: "src" } }, event: callEvent({ caller_name }) });
    const raw = url.replace("{{caller_name}}", "{{{caller_name}}}");
    for (const [template, name] of [[url, ".."], [url, "."], [raw, "%2E%2e"], [raw, "..\\.."], [raw, ".\t."]]) {
      const refused = await preview(template, name);
      expect(refused.status, name).toBe(422);
      expect(refused.body.error.details).toEqual([{ field: "url", message: expect.stringContaining('"." or ".." segment') }]);
    }
    // Dots within a segment are a name like any other, and {{value}} sends a % as %25.
    expect((await preview(url, "J. Doe..")).body.url).toBe(`${t.receiver.url}/api/contacts/J.%20Doe../calls?n=%2B15551234567`);
    expect((await preview(url, "%2e%2e")).body.url).toBe(`${t.receiver.url}/api/contacts/%252e%252e/calls?n=%2B15551234567`);

    const source = await createSource(t.gw);
    await createWebhook(t.gw, { method: "GET", url, params: { n: "src" } });
    const answer = await ingest(t.gw, source, callEvent({ caller_name: ".." }));
    await t.gw.settle();
    const [delivery] = (await t.gw.api("GET", `/api/events/${answer.body.event_id}`)).body.deliveries;
    expect(delivery).toMatchObject({ status: "failed", last_error: expect.stringContaining('"." or ".." segment') });
    expect(t.receiver.requests).toHaveLength(0);
  });
});

describe("events and deliveries listing", () => {
  it("filters and pages with next_cursor", async () => {
    const source = await createSource(t.gw);
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/l`, events: ["call.end", "call.start"] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await ingest(t.gw, source, callEvent({ type: i % 2 ? "call.start" : "call.end" }))).body.event_id);
    }
    await t.gw.settle();

    const first = await t.gw.api("GET", "/api/events?limit=2");
    expect(first.body.data.map((e: { event_id: string }) => e.event_id)).toEqual([ids[4], ids[3]]);
    const second = await t.gw.api("GET", `/api/events?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((e: { event_id: string }) => e.event_id)).toEqual([ids[2], ids[1]]);
    const last = await t.gw.api("GET", `/api/events?limit=2&cursor=${second.body.next_cursor}`);
    expect(last.body.data.map((e: { event_id: string }) => e.event_id)).toEqual([ids[0]]);
    expect(last.body.next_cursor).toBeNull();
    expect(first.body.data[0].raw).toBeUndefined();

    const starts = await t.gw.api("GET", "/api/events?type=call.start");
    expect(starts.body.data).toHaveLength(2);

    const delivered = await t.gw.api("GET", `/api/deliveries?webhook_id=${hook.id}&status=delivered&limit=3`);
    expect(delivered.body.data).toHaveLength(3);
    expect(delivered.body.next_cursor).not.toBeNull();
    const ofEvent = await t.gw.api("GET", `/api/deliveries?event_id=${ids[0]}`);
    expect(ofEvent.body.data).toHaveLength(1);
    expect(ofEvent.body.data[0].request.method).toBe("POST");
  });
});

describe("event detail", () => {
  it("names each rule that made no delivery of the event, the field that leaves it out as the rules are now, and whether it was made or changed since", async () => {
    const office = await createSource(t.gw, "Office");
    const warehouse = await createSource(t.gw, "Warehouse");
    const url = `${t.receiver.url}/e`;
    const taking = await createWebhook(t.gw, { name: "Takes it", url });
    const rule = async (name: string, fields: Record<string, unknown>) => (await createWebhook(t.gw, { name, url, ...fields })).id;
    const ids = {
      events: await rule("Starts only", { events: ["call.start"] }),
      callTypes: await rule("Outbound only", { call_types: ["outbound"] }),
      sources: await rule("Warehouse only", { source_ids: [warehouse.id] }),
      filter: await rule("Long calls only", { filter: "bill_duration > 3600" }),
      disabled: await rule("Paused", { enabled: false }),
      // Off as well, but its event type leaves the event out first: enabling it would not help.
      disabledStarts: await rule("Paused, starts only", { enabled: false, events: ["call.start"] }),
    };
    t.gw.clock.advance(1_000);
    const accepted = await ingest(t.gw, office, callEvent({ direction: "inbound" }));
    expect(accepted.body.deliveries).toBe(1);
    await t.gw.settle();
    t.gw.clock.advance(1_000);
    // Made since the event came in: one that takes it now, one whose filter fails on it.
    const madeSince = await rule("Made since", {});
    const failing = await rule("Failing filter", { filter: '$error("no such field")' });

    const detail = (await t.gw.api("GET", `/api/events/${accepted.body.event_id}`)).body;
    expect(detail.deliveries.map((d: { webhook_id: string }) => d.webhook_id)).toEqual([taking.id]);
    expect(detail.rules_without_delivery).toEqual({
      rules: [
        { id: madeSince, name: "Made since", unmatched: null, since_event: "made" },
        { id: ids.disabled, name: "Paused", unmatched: "disabled", since_event: null },
        { id: failing, name: "Failing filter", unmatched: "filter", since_event: "made" },
        { id: ids.filter, name: "Long calls only", unmatched: "filter", since_event: null },
        { id: ids.sources, name: "Warehouse only", unmatched: "source_ids", since_event: null },
        { id: ids.callTypes, name: "Outbound only", unmatched: "call_types", since_event: null },
        { id: ids.disabledStarts, name: "Paused, starts only", unmatched: "events", since_event: null },
        { id: ids.events, name: "Starts only", unmatched: "events", since_event: null },
      ],
      more: 0,
    });

    // As the rules are now: one enabled since is no longer left out by being disabled; a deleted one is not named.
    await t.gw.api("PATCH", `/api/webhooks/${ids.disabled}`, { enabled: true });
    await t.gw.api("DELETE", `/api/webhooks/${ids.events}`);
    const now = (await t.gw.api("GET", `/api/events/${accepted.body.event_id}`)).body.rules_without_delivery.rules;
    expect(now.find((r: { id: string }) => r.id === ids.disabled)).toMatchObject({ unmatched: null, since_event: "changed" });
    expect(now.map((r: { id: string }) => r.id)).not.toContain(ids.events);
    // Saved without a change that matters (a new name) still counts as changed: the gateway keeps no history of rules.
    await t.gw.api("PATCH", `/api/webhooks/${ids.sources}`, { name: "Warehouse, renamed" });
    const renamed = (await t.gw.api("GET", `/api/events/${accepted.body.event_id}`)).body.rules_without_delivery.rules;
    expect(renamed.find((r: { id: string }) => r.id === ids.sources)).toMatchObject({ unmatched: "source_ids", since_event: "changed" });
  });

  it("names at most 50 rules, the nearest first, and says how many more", async () => {
    const source = await createSource(t.gw);
    const paused = await createWebhook(t.gw, { name: "Paused", url: `${t.receiver.url}/p`, enabled: false });
    for (let i = 0; i < 52; i++) await createWebhook(t.gw, { name: `Starts ${i}`, url: `${t.receiver.url}/s`, events: ["call.start"] });
    t.gw.clock.advance(1_000);
    const accepted = await ingest(t.gw, source, callEvent());
    expect(accepted.body.deliveries).toBe(0);
    const { rules, more } = (await t.gw.api("GET", `/api/events/${accepted.body.event_id}`)).body.rules_without_delivery;
    expect(rules).toHaveLength(50);
    expect(more).toBe(3);
    // Made first, it comes last in the list of rules, but first here: only being disabled leaves the event out.
    expect(rules[0]).toEqual({ id: paused.id, name: "Paused", unmatched: "disabled", since_event: null });
    expect(rules.slice(1).every((r: { unmatched: string }) => r.unmatched === "events")).toBe(true);
  });
});

describe("test send", () => {
  it("sends the sample event through a rule now and returns the delivery", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/t`, events: ["call.start"], filter: "false" });
    const sent = await t.gw.api("POST", `/api/webhooks/${hook.id}/test`);
    expect(sent.status).toBe(202);
    expect(sent.body.webhook_id).toBe(hook.id);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
    expect(JSON.parse(t.receiver.requests[0].body).uniqueid).toBe("10000000.1000");
  });
});

describe("samples", () => {
  /** Every field of the canonical call event (DESIGN.md). */
  const CANONICAL_FIELDS = [
    "event_id", "type", "source", "source_id", "occurred_at", "uniqueid", "direction", "status", "src", "dst",
    "caller_id_number", "caller_name", "did", "start_at", "answer_at", "end_at", "duration", "bill_duration",
    "bridged", "hangup_cause", "hangup_cause_code", "hangup_initiator", "public_recording", "leadid",
    "queue_name", "ring_group_name", "ivr_name", "agent", "tags", "raw",
  ];

  it("lists a sample event of each source kind, made by its adapter from the payload the PBX posts", async () => {
    expect((await t.gw.send("/api/samples", {})).status).toBe(401);
    const listed = await t.gw.api("GET", "/api/samples");
    expect(listed.status).toBe(200);
    expect(listed.body.next_cursor).toBeNull();
    const byId = Object.fromEntries(listed.body.data.map((sample: any) => [sample.id, sample]));
    expect(listed.body.data.map((sample: any) => sample.id)).toEqual(["canonical", "wildix", "voipcloud", "voipappz"]);

    for (const sample of listed.body.data) {
      expect(sample.source).toBe(sample.id);
      expect(sample.label).toMatch(/^(Canonical|Wildix|VoIPcloud|VoIPAppz): .+, answered inbound call$/);
      expect(Object.keys(sample.event).sort()).toEqual([...CANONICAL_FIELDS].sort());
      expect(sample.event).toMatchObject({
        event_id: `evt_sample_${sample.id}`,
        source: sample.id,
        source_id: "sample",
        type: "call.end",
        direction: "inbound",
        status: "answered",
        hangup_cause: "ANSWERED",
        bridged: true,
      });
      expect(sample.event.caller_id_number).toMatch(/^\+?\d+$/);
      expect(sample.event.agent.extension).toMatch(/^\d+$/);
      expect(sample.event.raw).toEqual(SAMPLE_PAYLOADS[sample.id as keyof typeof SAMPLE_PAYLOADS].payload);
    }
    // The PBX payloads are the shared fixtures where those show an answered inbound call.
    expect(byId.voipcloud.event.raw).toEqual(projectJson("test/fixtures/voipcloud/user_inbound_completed.json"));
    expect(byId.voipappz.event.raw).toEqual(projectJson("test/fixtures/voipappz/call-hangup.json"));
    expect(byId.wildix.event.raw).toMatchObject({ type: "call:end", data: { caller: { type: "REMOTE" }, callee: { type: "LOCAL" } } });

    expect(byId.canonical.event).toMatchObject({ uniqueid: "10000000.1000", duration: 340, bill_duration: 328, leadid: "1234" });
    expect(byId.wildix.event).toMatchObject({
      uniqueid: "it_w118741_1795183380.2231",
      occurred_at: "2026-11-20T14:08:40.512Z",
      src: "+15551234567",
      caller_name: "Jane Customer",
      did: "+15557654321",
      hangup_cause_code: "16",
      hangup_initiator: "caller",
      queue_name: "Sales",
      agent: { name: "Alex Agent", extension: "201", email: "alex@example.com" },
      tags: ["vip"],
    });
    expect(byId.voipcloud.event).toMatchObject({
      uniqueid: "1700000000.5521",
      caller_name: "ACME PTY LTD",
      start_at: "2026-11-19T22:15:02.000Z",
      answer_at: "2026-11-19T22:15:09.000Z",
      end_at: "2026-11-19T22:18:09.000Z",
      duration: 187,
      bill_duration: 180,
      agent: { name: "Jane Smith", extension: "201" },
    });
    expect(byId.voipappz.event).toMatchObject({
      uniqueid: "bfd7e62a-5a55-4286-9453-b4b4cfc5cca8",
      duration: 60,
      bill_duration: 30,
      public_recording: "https://cloud.voipappz.io/recordings/bfd7e62a-5a55-4286-9453-b4b4cfc5cca8",
      queue_name: "Que1",
      agent: { name: "Dana Levi", extension: "105" },
    });
  });

  it("previews a rule against the sample of a source kind", async () => {
    const rule = { method: "GET", url: `${t.receiver.url}/p/{{agent.extension}}`, params: { phone: "src", who: "caller_name", ext: "agent.extension" } };
    const drafted = await t.gw.api("POST", "/api/preview", { webhook: rule, sample: "wildix" });
    expect(drafted.status).toBe(200);
    expect(drafted.body).toMatchObject({ method: "GET", body: null, matches: true, event_id: "evt_sample_wildix" });
    const url = new URL(drafted.body.url);
    expect(url.pathname).toBe("/p/201");
    expect(Object.fromEntries(url.searchParams)).toEqual({ phone: "+15551234567", who: "Jane Customer", ext: "201" });

    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/s`, body_template: "{{source}} {{uniqueid}} {{bill_duration}} {{public_recording}}" });
    const saved = await t.gw.api("POST", `/api/webhooks/${hook.id}/preview`, { sample: "voipappz" });
    expect(saved.status).toBe(200);
    expect(saved.body.body).toBe(
      "voipappz bfd7e62a-5a55-4286-9453-b4b4cfc5cca8 30 https://cloud.voipappz.io/recordings/bfd7e62a-5a55-4286-9453-b4b4cfc5cca8",
    );
    // No body at all, as the README's curl sends it: the built-in sample.
    const bare = await t.gw.send(`/api/webhooks/${hook.id}/preview`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bare.status).toBe(200);
    expect(bare.body.event_id).toBe("evt_preview");
    // An empty body under a JSON content type, as many HTTP clients send a POST without data: the sample too.
    const empty = await t.gw.send(`/api/webhooks/${hook.id}/preview`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: "",
    });
    expect(empty.status, JSON.stringify(empty.body)).toBe(200);
    expect(empty.body.event_id).toBe("evt_preview");
    expect(t.receiver.requests).toHaveLength(0);
  });

  it("sends the sample of a source kind through a rule now", async () => {
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/t`, params: { call: "uniqueid", from: "source", talk: "bill_duration", agent: "agent.name" } });
    const sent = await t.gw.api("POST", `/api/webhooks/${hook.id}/test`, { sample: "voipcloud" });
    expect(sent.status).toBe(202);
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
    expect(t.receiver.requests[0].path).toBe("/t");
    expect(JSON.parse(t.receiver.requests[0].body)).toEqual({ call: "1700000000.5521", from: "voipcloud", talk: 180, agent: "Jane Smith" });
    const delivery = await t.gw.api("GET", `/api/deliveries/${sent.body.id}`);
    expect(delivery.body.status).toBe("delivered");
  });

  it("takes one of event, event_id or sample, and only a known sample", async () => {
    const rule = { url: `${t.receiver.url}/p`, params: { phone: "src" } };
    const hook = await createWebhook(t.gw, { url: `${t.receiver.url}/t` });
    const source = await createSource(t.gw);
    const stored = (await ingest(t.gw, source, callEvent())).body.event_id;

    const inlineAndSample = await t.gw.api("POST", "/api/preview", { webhook: rule, event: callEvent(), sample: "wildix" });
    expect(inlineAndSample.status).toBe(400);
    expect(inlineAndSample.body.error.details).toEqual([{ field: "sample", message: expect.stringContaining("only one of") }]);
    const inlineAndStored = await t.gw.api("POST", `/api/webhooks/${hook.id}/preview`, { event: callEvent(), event_id: stored });
    expect(inlineAndStored.status).toBe(400);
    expect(inlineAndStored.body.error.details[0].field).toBe("event_id");
    const storedAndSample = await t.gw.api("POST", `/api/webhooks/${hook.id}/test`, { event_id: stored, sample: "voipcloud" });
    expect(storedAndSample.status).toBe(400);
    expect(storedAndSample.body.error.details[0].field).toBe("sample");

    const unknown = await t.gw.api("POST", "/api/preview", { webhook: rule, sample: "asterisk" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].field).toBe("sample");
    expect((await t.gw.api("POST", `/api/webhooks/${hook.id}/test`, { sample: "asterisk" })).status).toBe(400);

    // Nothing was sent for the refused test sends; the stored event's own delivery is the only one.
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(1);
  });
});

describe("console", () => {
  it("is served by the gateway itself, with a policy that allows nothing external", async () => {
    const page = await t.gw.send("/", {});
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.body).toContain('<script type="module" src="/console/console.mjs"></script>');
    expect(page.headers.get("content-security-policy")).toMatch(/^default-src 'self';/);
    const style = await t.gw.send("/console/console.css", {});
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    // Every module the shell imports, directly or not, is served as JavaScript by the gateway itself.
    const modules = new Map<string, string>();
    const pending = ["console.mjs"];
    while (pending.length) {
      const name = pending.pop()!;
      if (modules.has(name)) continue;
      const script = await t.gw.send(`/console/${name}`, {});
      expect([name, script.status, script.headers.get("content-type")]).toEqual([name, 200, "text/javascript; charset=utf-8"]);
      modules.set(name, script.body);
      for (const [, imported] of script.body.matchAll(/from "([^"]+)"/g)) {
        expect(imported).toMatch(/^\.\/[a-z-]+\.mjs$/);
        pending.push(imported.slice(2));
      }
    }
    expect([...modules.keys()]).toEqual(expect.arrayContaining(["dom.mjs", "webhook-form.mjs", "preview.mjs", "deliveries.mjs", "events.mjs", "vocabulary.mjs"]));
    expect(modules.get("vocabulary.mjs")).toContain('export const EVENT_TYPES = ["call.start"');
    // Every URL the console loads is the gateway's own.
    for (const text of [page.body, style.body]) expect(text).not.toMatch(/(?:src|href)=["']?(?:https?:)?\/\//);
    for (const path of ["/console/secrets.txt", "/console/__proto__", "/console/constructor", "/console/toString"]) {
      expect((await t.gw.send(path, {})).status, path).toBe(404);
    }
  });
});

describe("outbound safety", () => {
  it("refuses to save a rule whose URL is a blocked IP literal, naming url and OUTBOUND_ALLOW", async () => {
    for (const [url, reason] of [
      ["http://10.0.0.1/calls", "10.0.0.1 is a blocked address (private)"],
      ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a blocked address (cloud metadata)"],
      ["https://[fd00::1]:8443/calls", "fd00::1 is a blocked address (unique local)"],
    ]) {
      const { status, body } = await t.gw.api("POST", "/api/webhooks", { name: "internal", events: ["call.end"], url });
      expect(status, url).toBe(400);
      expect(body.error.details).toEqual([{ field: "url", message: expect.stringContaining(`${reason}; set OUTBOUND_ALLOW to permit it`) }]);
    }
    // Names are checked where they resolve, when connecting; loopback is what the tests' OUTBOUND_ALLOW permits.
    await createWebhook(t.gw, { url: "https://crm.example.com/calls" });
    const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/calls` });

    const moved = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { url: "http://192.168.1.10/calls" });
    expect(moved.status).toBe(400);
    expect(moved.body.error.details[0].field).toBe("url");
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { enabled: false })).status).toBe(200);
  });

  it("refuses a preset's URL setting that is a blocked IP literal, naming the setting", async () => {
    const preset_config = { instance_url: "http://10.1.2.3", client_id: "id", client_secret: "secret" };
    const created = await t.gw.api("POST", "/api/webhooks", { name: "sf", preset: "salesforce", preset_config });
    expect(created.status).toBe(400);
    expect(created.body.error.details).toEqual([{ field: "preset_config.instance_url", message: expect.stringContaining("10.1.2.3 is a blocked address (private)") }]);

    const fine = await t.gw.api("POST", "/api/webhooks", { name: "sf", preset: "salesforce", preset_config: { ...preset_config, instance_url: "https://acme.my.salesforce.com" } });
    expect(fine.status).toBe(201);
    const moved = await t.gw.api("PATCH", `/api/webhooks/${fine.body.id}`, { preset_config: { instance_url: "http://[::ffff:192.168.0.9]" } });
    expect(moved.status).toBe(400);
    expect(moved.body.error.details[0].field).toBe("preset_config.instance_url");
  });
});

describe("stored credentials and a change of destination", () => {
  // Whoever may edit rules sees credentials masked; re-pointing a rule at their own server must not send them the real ones.
  const KEY = "key-1234567890abcdef";
  const moved = (field: string) => [{ field, message: expect.stringContaining("give this credential again") }];

  it("refuses to move a credential header to another host unless it is given again; another path on its host keeps it", async () => {
    const elsewhere = await new Receiver().start();
    try {
      const rule = await createWebhook(t.gw, { url: `${t.receiver.url}/calls`, headers: { "X-Api-Key": KEY, "X-Agent": "7" } });
      for (const patch of [{ url: `${elsewhere.url}/calls` }, { url: `${elsewhere.url}/calls`, headers: rule.headers }]) {
        const answer = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, patch);
        expect(answer.status, JSON.stringify(patch)).toBe(400);
        expect(answer.body.error.details).toEqual(moved("headers.X-Api-Key"));
      }
      expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { url: `${t.receiver.url}/calls/v2`, headers: rule.headers })).status).toBe(200);
      const source = await createSource(t.gw);
      await ingest(t.gw, source, callEvent({ uniqueid: "kept.1" }));
      await t.gw.settle();
      expect(elsewhere.requests).toEqual([]);
      expect(t.receiver.requests.map((r) => [r.path, r.headers["x-api-key"]])).toEqual([["/calls/v2", KEY]]);

      // Given again (or a header left out), the rule moves: the new host gets what it was given.
      const again = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { url: `${elsewhere.url}/calls`, headers: { "X-Api-Key": "key-for-elsewhere-0001", "X-Agent": "7" } });
      expect(again.status).toBe(200);
      await ingest(t.gw, source, callEvent({ uniqueid: "kept.2" }));
      await t.gw.settle();
      expect(elsewhere.requests.map((r) => r.headers["x-api-key"])).toEqual(["key-for-elsewhere-0001"]);
    } finally {
      await elsewhere.stop();
    }
  });

  it("judges a URL whose host part holds a block helper by the whole URL, which a branch could send elsewhere", async () => {
    const port = new URL(t.receiver.url).port;
    const rule = await createWebhook(t.gw, { url: `http://127.0.0.1:{{#if agent}}${port}{{else}}${port}{{/if}}/calls`, headers: { "X-Api-Key": KEY } });
    const patch = { url: `http://127.0.0.1:{{#if agent}}${port}{{else}}${port}{{/if}}/calls/v2`, headers: rule.headers };
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, patch)).body.error.details).toEqual(moved("headers.X-Api-Key"));
    expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { name: "renamed", headers: rule.headers })).status).toBe(200);
  });

  it("judges a URL whose host a value may leave empty by the whole URL: what follows it would be the host", async () => {
    // `http://{{crm_host}}/127.0.0.1:port/calls` with no crm_host is `http:///127.0.0.1:port/calls`, whose host URL
    // parsing takes from the path (extra slashes are skipped); so is one whose scheme a value precedes.
    const elsewhere = await new Receiver().start();
    try {
      const hostIn = (url: string, template: string) => url.replace("http://", template);
      for (const template of ["http://{{crm_host}}/", "{{crm_scheme}}http://"]) {
        const rule = await createWebhook(t.gw, { url: `${hostIn(t.receiver.url, template)}/calls`, headers: { "X-Api-Key": KEY } });
        const patch = { url: `${hostIn(elsewhere.url, template)}/calls`, headers: rule.headers };
        const answer = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, patch);
        expect(answer.status, template).toBe(400);
        expect(answer.body.error.details).toEqual(moved("headers.X-Api-Key"));
      }
      const source = await createSource(t.gw);
      await ingest(t.gw, source, callEvent({ uniqueid: "empty.host" }));
      await t.gw.settle();
      expect(elsewhere.requests).toEqual([]);
      expect(t.receiver.requests.map((r) => [r.path, r.headers["x-api-key"]])).toEqual([["/calls", KEY], ["/calls", KEY]]);
    } finally {
      await elsewhere.stop();
    }
  });

  it("refuses to move a preset's secret setting with its URL setting; a path setting or another setting keeps it", async () => {
    const elsewhere = await new Receiver().start();
    t.receiver.handler = () => ({ body: '{"code":0}' });
    try {
      const preset_config = { base_url: t.receiver.url, secret_key: KEY };
      const rule = await createWebhook(t.gw, { name: "ts", preset: "tradersoft", preset_config });
      const shown = rule.preset_config;
      for (const config of [{ base_url: elsewhere.url }, { ...shown, base_url: elsewhere.url }]) {
        const answer = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { preset_config: config });
        expect(answer.status, JSON.stringify(config)).toBe(400);
        expect(answer.body.error.details).toEqual(moved("preset_config.secret_key"));
      }
      // The rule's own URL, moved off the preset's setting, is a move too.
      const url = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { url: `${elsewhere.url}/api/addCallLog/` });
      expect(url.body.error.details).toEqual(moved("preset_config.secret_key"));

      expect((await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { preset_config: { ...shown, path: "/api/v2/addCallLog/" } })).status).toBe(200);
      const source = await createSource(t.gw);
      await ingest(t.gw, source, callEvent({ uniqueid: "preset.1" }));
      await t.gw.settle();
      expect(elsewhere.requests).toEqual([]);
      expect(t.receiver.requests.map((r) => [r.path, new URLSearchParams(r.body).get("secretKey")])).toEqual([["/api/v2/addCallLog/", KEY]]);

      const again = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { preset_config: { base_url: elsewhere.url, secret_key: "secret-for-elsewhere" } });
      expect(again.status).toBe(200);
    } finally {
      await elsewhere.stop();
    }
  });

  it("sends a delivery made before the rule moved with none of the credentials given since: retried by hand, it is made anew for the new host", async () => {
    const elsewhere = await new Receiver().start();
    // Account not found: failed at once, left for a retry by hand.
    t.receiver.handler = () => ({ body: '{"code":1}' });
    elsewhere.handler = () => ({ body: '{"code":0}' });
    try {
      const rule = await createWebhook(t.gw, { name: "ts", preset: "tradersoft", preset_config: { base_url: t.receiver.url, secret_key: KEY } });
      const source = await createSource(t.gw);
      const { body } = await ingest(t.gw, source, callEvent({ uniqueid: "made.before" }));
      await t.gw.settle();
      const [made] = (await t.gw.api("GET", `/api/events/${body.event_id}`)).body.deliveries;
      expect(made.status).toBe("failed");

      // Moved with its secret given again: it is for the new host only, never for the request made for the old one.
      const moved = await t.gw.api("PATCH", `/api/webhooks/${rule.id}`, { preset_config: { base_url: elsewhere.url, secret_key: "secret-for-elsewhere" } });
      expect(moved.status).toBe(200);
      expect((await t.gw.api("POST", `/api/deliveries/${made.id}/retry`)).status).toBe(202);
      await t.gw.settle();
      const retried = (await t.gw.api("GET", `/api/deliveries/${made.id}`)).body;
      expect(retried).toMatchObject({ status: "delivered", request: { url: `${elsewhere.url}/api/addCallLog/` } });
      expect(t.receiver.requests.map((r) => new URLSearchParams(r.body).get("secretKey"))).toEqual([KEY]);

      // A new call goes to the new host with its secret, as the one made anew did.
      await ingest(t.gw, source, callEvent({ uniqueid: "made.after" }));
      await t.gw.settle();
      expect(elsewhere.requests.map((r) => new URLSearchParams(r.body).get("secretKey"))).toEqual(["secret-for-elsewhere", "secret-for-elsewhere"]);
    } finally {
      await elsewhere.stop();
    }
  });
});

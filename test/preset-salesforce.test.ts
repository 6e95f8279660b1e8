import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createSource, ingest, startGateway, type TestGateway } from "./support/gateway.js";
import { Receiver } from "./support/receiver.js";
import { SalesforceStandIn } from "./support/salesforce-standin.js";

let gw: TestGateway;
let sf: SalesforceStandIn;
let source: { id: string; secret: string };

beforeEach(async () => {
  gw = await startGateway();
  sf = await new SalesforceStandIn().start();
  source = await createSource(gw);
});
afterEach(async () => {
  await gw.stop();
  await sf.stop();
});

async function salesforceRule(config: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  const created = await gw.api("POST", "/api/webhooks", {
    name: "Salesforce calls",
    preset: "salesforce",
    preset_config: { instance_url: `${sf.url}/`, client_id: sf.clientId, client_secret: sf.clientSecret, ...config },
    ...overrides,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

/** Ingests a call and returns its delivery, with attempts, once the dispatcher is done. */
async function deliver(event = callEvent()) {
  const answer = await ingest(gw, source, event);
  await gw.settle();
  const [summary] = (await gw.api("GET", `/api/events/${answer.body.event_id}`)).body.deliveries;
  return (await gw.api("GET", `/api/deliveries/${summary.id}`)).body;
}

describe("Salesforce preset", () => {
  it("is listed with the settings it needs, secrets marked", async () => {
    const { body } = await gw.api("GET", "/api/presets");
    expect(body.data.map((p: { id: string }) => p.id).sort()).toEqual(["salesforce", "tradersoft", "voipcloud"]);
    const { body: salesforce } = await gw.api("GET", "/api/presets/salesforce");
    expect(salesforce.config.client_secret).toMatchObject({ secret: true, required: true });
    expect(salesforce.config.instance_url).toMatchObject({ type: "url", required: true });
    expect(salesforce.config.api_version.default).toBe("66.0");
    expect((await gw.api("GET", "/api/presets/hubspot")).status).toBe(404);
  });

  it("logs a call as a Task linked to the Contact found by phone, via client credentials", async () => {
    const rule = await salesforceRule();
    expect(rule.url).toContain("/sobjects/Task");
    expect(rule.preset_config.client_secret).toBe("****1f2a");
    expect(rule.preset_config.instance_url).toBe(sf.url);

    const delivery = await deliver(callEvent({ uniqueid: "10000000.1000" }));
    expect(delivery.status).toBe("delivered");

    const [tokenRequest] = sf.requestsTo("/services/oauth2/token");
    expect(Object.fromEntries(new URLSearchParams(tokenRequest.body))).toEqual({
      grant_type: "client_credentials",
      client_id: sf.clientId,
      client_secret: sf.clientSecret,
    });
    const [search] = sf.requestsTo("/services/data/v66.0/search/");
    expect(search.query.get("q")).toBe("FIND {\\+15551234567} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)");

    const [task] = sf.requestsTo("/services/data/v66.0/sobjects/Task");
    expect(task.headers.authorization).toBe("Bearer 00D5g000004SfAb!AQ4AQ.session-1");
    expect(task.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(task.body)).toEqual({
      Subject: "Inbound call from Jane Customer",
      TaskSubtype: "Call",
      CallType: "Inbound",
      CallDurationInSeconds: 328,
      CallObject: "10000000.1000",
      CallDisposition: "ANSWERED",
      Status: "Completed",
      ActivityDate: "2026-11-20",
      Description:
        "From +15551234567 to +15557654321, agent Alex Agent (201). Talk time 328 s of 340 s. Recording: https://recordings.example.com/10000000.1000.mp3",
      WhoId: "0035g00000AbCdEAAA",
    });
    expect(delivery.attempts[0].note).toBe("access token fetched; WhoId 0035g00000AbCdEAAA (Contact with phone +15551234567)");
    // The body as rendered, previewed and logged, byte for byte, with the WhoId member put first.
    expect(task.body).toBe(delivery.request.body.replace(/^\s*\{/, (open: string) => `${open}"WhoId":"0035g00000AbCdEAAA",`));
    expect(delivery.request.body).toContain("\n");
  });

  it("files the Task on the day the call ended in the org's time zone", async () => {
    const rule = await salesforceRule({ time_zone: "america/new_york" });
    expect(rule.preset_config.time_zone).toBe("America/New_York");
    // 00:30 UTC on the 21st is 19:30 on the 20th in New York: filed on the 21st before, a day late.
    const evening = callEvent({ end_at: "2026-11-21T00:30:00Z", occurred_at: "2026-11-21T00:30:00Z" });
    const preview = await gw.api("POST", `/api/webhooks/${rule.id}/preview`, { event: evening });
    expect(JSON.parse(preview.body.body).ActivityDate).toBe("2026-11-20");
    await deliver(evening);
    const [task] = sf.requestsTo("/services/data/v66.0/sobjects/Task");
    expect(JSON.parse(task.body).ActivityDate).toBe("2026-11-20");
    // Unset, the day is UTC's, as before.
    await gw.api("PATCH", `/api/webhooks/${rule.id}`, { preset_config: { time_zone: "" } });
    await deliver({ ...evening, uniqueid: "utc.1" });
    expect(JSON.parse(sf.requestsTo("/services/data/v66.0/sobjects/Task")[1].body).ActivityDate).toBe("2026-11-21");
  });

  it("files an internal call as Internal, and one of unknown direction without a CallType rather than as Internal", async () => {
    await salesforceRule();
    await deliver(callEvent({ uniqueid: "internal.1", direction: "internal", src: "201", dst: "202" }));
    await deliver(callEvent({ uniqueid: "unknown.1", direction: null, src: "+15551234567", dst: "+15557654321" }));
    const [internal, unknown] = sf.requestsTo("/services/data/v66.0/sobjects/Task").map((task) => JSON.parse(task.body));
    expect(internal).toMatchObject({ Subject: "Internal call 201 to 202", CallType: "Internal" });
    expect(unknown.Subject).toBe("Call from +15551234567 to +15557654321");
    expect(unknown).not.toHaveProperty("CallType");
  });

  it("reuses the cached token, links Leads, and skips the lookup when told to", async () => {
    await salesforceRule();
    await deliver(callEvent({ src: "+15550000001" }));
    await deliver(callEvent({ src: "+15559999999" }));
    expect(sf.requestsTo("/services/oauth2/token")).toHaveLength(1);
    const tasks = sf.requestsTo("/services/data/v66.0/sobjects/Task").map((r) => JSON.parse(r.body));
    expect(tasks[0].WhoId).toBe("00Q5g00000XyZwVUAA");
    expect(tasks[1].WhoId).toBeUndefined();

    const rule = (await gw.api("GET", "/api/webhooks")).body.data[0];
    await gw.api("PATCH", `/api/webhooks/${rule.id}`, { preset_config: { find_caller: false, api_version: "67.0" } });
    const delivery = await deliver(callEvent());
    expect(delivery.status).toBe("delivered");
    expect(sf.requestsTo("/services/data/v67.0/search/")).toHaveLength(0);
    expect(sf.requestsTo("/services/data/v67.0/sobjects/Task")).toHaveLength(1);
  });

  it("files the Task without a WhoId when the caller search answers 200 with no JSON, saying so without quoting the reply", async () => {
    await salesforceRule();
    sf.searchReply = { status: 200, headers: { "content-type": "text/html" }, body: "<html>session token 00D-secret-ish</html>" };
    const delivery = await deliver(callEvent());
    expect(delivery.status).toBe("delivered");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].note).toBe("access token fetched; caller lookup failed (200): the reply is not a JSON object");
    expect(JSON.parse(sf.requestsTo("/services/data/v66.0/sobjects/Task")[0].body)).not.toHaveProperty("WhoId");
  });

  it("takes a setting's default when it is emptied, rather than sending without it", async () => {
    const rule = await salesforceRule({ task_status: "" });
    expect(rule.preset_config.task_status).toBe("Completed");
    const patched = await gw.api("PATCH", `/api/webhooks/${rule.id}`, { preset_config: { api_version: "", find_caller: false } });
    expect(patched.body.preset_config.api_version).toBe("66.0");
    expect((await deliver()).status).toBe("delivered");
    expect(JSON.parse(sf.requestsTo("/services/data/v66.0/sobjects/Task")[0].body).Status).toBe("Completed");
  });

  it("uses the refresh-token flow when a refresh token is set", async () => {
    await salesforceRule({ refresh_token: sf.refreshToken });
    expect((await deliver()).status).toBe("delivered");
    const form = new URLSearchParams(sf.requestsTo("/services/oauth2/token")[0].body);
    expect(form.get("grant_type")).toBe("refresh_token");
    expect(form.get("refresh_token")).toBe(sf.refreshToken);
  });

  it("fetches a new token once when Salesforce answers 401 INVALID_SESSION_ID, in the same attempt", async () => {
    await salesforceRule({ find_caller: false });
    await deliver();
    sf.expireSessions();
    const delivery = await deliver();
    expect(delivery.status).toBe("delivered");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].note).toContain("credentials expired (HTTP 401): renewed and sent again");
    const tasks = sf.requestsTo("/services/data/v66.0/sobjects/Task");
    expect(tasks.map((t) => t.headers.authorization)).toEqual([
      "Bearer 00D5g000004SfAb!AQ4AQ.session-1",
      "Bearer 00D5g000004SfAb!AQ4AQ.session-1",
      "Bearer 00D5g000004SfAb!AQ4AQ.session-2",
    ]);
  });

  it("cuts a Subject or call id longer than Salesforce takes to its limit, whole characters only, as previewed", async () => {
    const rule = await salesforceRule({ find_caller: false });
    // "Inbound call from " and the quote take 19 of the Subject's 255 characters: the emoji would be the 255th and 256th.
    const caller_name = `"${"x".repeat(235)}\u{1F600} and the rest of a very long name`;
    const uniqueid = `${"9".repeat(250)}.12345`;
    const event = callEvent({ caller_name, uniqueid });
    const delivery = await deliver(event);
    expect(delivery.status, JSON.stringify(delivery.attempts)).toBe("delivered");

    const [task] = sf.requestsTo("/services/data/v66.0/sobjects/Task");
    const sent = JSON.parse(task.body);
    expect(sent.Subject).toBe(`Inbound call from "${"x".repeat(235)}`);
    expect(sent.Subject).toHaveLength(254);
    expect(sent.CallObject).toBe(uniqueid.slice(0, 255));
    // The other members as the template wrote them, and the log shows what was sent.
    expect(sent.Description).toContain("Talk time 328 s of 340 s.");
    expect(task.body).toBe(delivery.request.body);
    expect(task.body).toContain('\n  "TaskSubtype": "Call",\n');
    const preview = await gw.api("POST", `/api/webhooks/${rule.id}/preview`, { event });
    expect(preview.body.body).toBe(task.body);
  });

  it("cuts only the body's own members that Salesforce limits, whatever the template, the rest as written", async () => {
    const long = "\u00e9".repeat(300);
    const template = '{"Nested": {"Subject": "{{caller_name}}"}, "Li\\"st": ["{{caller_name}}", 1],\n "Subject" :  "{{caller_name}}" , "Description": "{{caller_name}}"}';
    const rule = await salesforceRule({}, { body_template: template });
    const preview = await gw.api("POST", `/api/webhooks/${rule.id}/preview`, { event: callEvent({ caller_name: long }) });
    expect(preview.status).toBe(200);
    expect(preview.body.body).toBe(
      `{"Nested": {"Subject": "${long}"}, "Li\\"st": ["${long}", 1],\n "Subject" :  "${long.slice(0, 255)}" , "Description": "${long}"}`,
    );
  });

  it("does not retry a 400 validation error, and explains it", async () => {
    await salesforceRule({ task_status: "Done-ish" });
    const delivery = await deliver();
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].error).toBe(
      "HTTP 400 INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Status: bad value for restricted picklist field: Done-ish (Status)",
    );
  });

  it("backs off an hour on REQUEST_LIMIT_EXCEEDED", async () => {
    await salesforceRule({ find_caller: false });
    sf.limitExceeded = true;
    const delivery = await deliver();
    expect(delivery.status).toBe("pending");
    expect(delivery.attempts[0].error).toContain("REQUEST_LIMIT_EXCEEDED");
    expect(Date.parse(delivery.next_attempt_at) - Date.parse(delivery.attempts[0].started_at)).toBe(3_600_000);
    sf.limitExceeded = false;
    gw.clock.advance(3_600_000);
    await gw.sweep();
    expect((await gw.api("GET", `/api/deliveries/${delivery.id}`)).body.status).toBe("delivered");
  });

  it("fails without retrying when the credentials are refused", async () => {
    await salesforceRule({ client_secret: "wrong-secret-value" });
    const delivery = await deliver();
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].error).toBe("Salesforce token request failed: 400 invalid_client: invalid client credentials");
  });

  it("never shows the secrets: not in the rule, the preview or the delivery log", async () => {
    const rule = await salesforceRule({ refresh_token: sf.refreshToken });
    const preview = await gw.api("POST", `/api/webhooks/${rule.id}/preview`, { event: callEvent() });
    expect(preview.body.headers.authorization).toBe("Bearer ****");
    expect(JSON.parse(preview.body.body).Subject).toBe("Inbound call from Jane Customer");
    await deliver();
    const shown = JSON.stringify([
      (await gw.api("GET", `/api/webhooks/${rule.id}`)).body,
      preview.body,
      (await gw.api("GET", "/api/deliveries")).body,
    ]);
    for (const secret of [sf.clientSecret, sf.refreshToken, "session-1"]) expect(shown).not.toContain(secret);
  });

  it("retries a token request that was rate limited, after its Retry-After", async () => {
    await salesforceRule({ find_caller: false });
    sf.receiver.replyWith({
      status: 429,
      headers: { "content-type": "application/json", "retry-after": "120" },
      body: JSON.stringify({ error: "rate_limited", error_description: "too many requests" }),
    });
    const delivery = await deliver();
    expect(delivery.status).toBe("pending");
    expect(delivery.attempts[0].error).toBe("Salesforce token request failed: 429 rate_limited: too many requests");
    expect(Date.parse(delivery.next_attempt_at) - Date.parse(delivery.attempts[0].started_at)).toBe(120_000);
    gw.clock.advance(120_000);
    await gw.sweep();
    expect((await gw.api("GET", `/api/deliveries/${delivery.id}`)).body.status).toBe("delivered");
    expect(sf.requestsTo("/services/data/v66.0/sobjects/Task")).toHaveLength(1);
  });

  it("fails, explained, on a token reply that is JSON but no object (null), rather than on a TypeError", async () => {
    await salesforceRule({ find_caller: false });
    sf.receiver.replyWith({ status: 200, headers: { "content-type": "application/json" }, body: "null" });
    const delivery = await deliver();
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts[0].error).toBe("Salesforce token request failed: 200 null");
  });

  it("reads a token or search reply only so far: a server answering without end cannot fill the gateway's memory", async () => {
    await salesforceRule();
    const pad = "x".repeat(2 * 1024 * 1024);
    sf.receiver.replyWith({ status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ access_token: "00D-token", pad }) });
    const refused = await deliver();
    expect(refused.status).toBe("failed");
    expect(refused.attempts[0].error).toBe("Salesforce token request failed: 200 with a reply over 65536 bytes (not read)");
    expect(sf.requestsTo("/services/data/")).toHaveLength(0);

    sf.searchReply = { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ searchRecords: [], pad }) };
    const filed = await deliver();
    expect(filed.status).toBe("delivered");
    expect(filed.attempts[0].note).toBe("access token fetched; caller lookup failed (200): the reply is over 1048576 bytes (not read)");
  });

  it("follows no redirect from the token endpoint: the credentials go nowhere else", async () => {
    const elsewhere = await new Receiver().start();
    sf.receiver.replyWith({ status: 307, headers: { location: `${elsewhere.url}/services/oauth2/token` } });
    await salesforceRule();
    const delivery = await deliver();
    expect(elsewhere.requests).toHaveLength(0);
    expect(delivery.attempts[0].error).toMatch(/^Salesforce token request failed: 307/);
    await elsewhere.stop();
  });

  it("notes a body that is no JSON object without quoting it, as its secrets are filled in by then", async () => {
    await salesforceRule({}, { body_template: '{"Subject": "x", "k": {{{config.client_secret}}} }' });
    const delivery = await deliver();
    expect(delivery.attempts[0].note).toBe("access token fetched; WhoId not added: the body is not a JSON object");
    expect(JSON.stringify(delivery)).not.toContain(sf.clientSecret.slice(0, 6));
  });

  it("sends a caller's text that looks like a secret placeholder as that text, never the secret", async () => {
    // Only the placeholders the template rendered are filled in: not those in the event, nor a guess at their mark.
    await salesforceRule({ refresh_token: sf.refreshToken });
    const caller_name = "x __SECRET__client_secret__ __SECRET__0123456789abcdef01234567__refresh_token__";
    const delivery = await deliver(callEvent({ caller_name }));
    expect(delivery.status, JSON.stringify(delivery.attempts)).toBe("delivered");
    const [task] = sf.requestsTo("/services/data/v66.0/sobjects/Task");
    expect(JSON.parse(task.body).Subject).toBe(`Inbound call from ${caller_name}`);
    expect(task.body).not.toContain(sf.clientSecret);
    expect(task.body).not.toContain(sf.refreshToken);
    // The delivery log shows that text as it was sent, not masked as if it were a secret.
    expect(JSON.parse(delivery.request.body).Subject).toBe(`Inbound call from ${caller_name}`);
  });

  it("lets any field be overridden, and names missing or wrong settings", async () => {
    const rule = await salesforceRule({}, { events: ["call.end", "call.report"], retries: 1, call_types: ["inbound"] });
    expect(rule).toMatchObject({ events: ["call.end", "call.report"], retries: 1, call_types: ["inbound"], method: "POST_JSON" });

    const bad = await gw.api("POST", "/api/webhooks", {
      name: "x",
      preset: "salesforce",
      preset_config: { instance_url: "acme.my.salesforce.com", find_caller: "yes", colour: "red", constructor: "x" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      "preset_config.client_id",
      "preset_config.client_secret",
      "preset_config.colour",
      "preset_config.constructor",
      "preset_config.find_caller",
      "preset_config.instance_url",
    ]);
    // A setting written unlike its API wants it (the version as the URL shows it) would fail every delivery.
    const version = await gw.api("POST", "/api/webhooks", {
      name: "x",
      preset: "salesforce",
      preset_config: { instance_url: "https://acme.my.salesforce.com", client_id: "a", client_secret: "b", api_version: "v66.0" },
    });
    expect(version.status).toBe(400);
    expect(version.body.error.details).toEqual([{ field: "preset_config.api_version", message: "must be written like 66.0" }]);

    // Paths are appended to a URL setting: a ?query would swallow them, spaces around it break the URL.
    const queried = await gw.api("POST", "/api/webhooks", {
      name: "x",
      preset: "salesforce",
      preset_config: { instance_url: "https://acme.my.salesforce.com/?org=1", client_id: "a", client_secret: "b" },
    });
    expect(queried.status).toBe(400);
    expect(queried.body.error.details).toEqual([{ field: "preset_config.instance_url", message: expect.stringContaining("?query") }]);
    const spaced = await salesforceRule({ instance_url: ` ${sf.url}/ ` });
    expect(spaced.preset_config.instance_url).toBe(sf.url);
    expect((await deliver()).status).toBe("delivered");

    // The login hosts issue tokens but serve no API: every Task would go to a host without one.
    for (const host of ["https://login.salesforce.com", " https://test.salesforce.com/"]) {
      const login = await gw.api("POST", "/api/webhooks", { name: "x", preset: "salesforce", preset_config: { instance_url: host, client_id: "a", client_secret: "b" } });
      expect(login.status).toBe(400);
      expect(login.body.error.details).toEqual([{ field: "preset_config.instance_url", message: "must be your org's My Domain URL (Setup > My Domain), like https://acme.my.salesforce.com: login.salesforce.com and test.salesforce.com issue tokens but serve no API" }]);
    }
    // An unknown time zone would fail every render: refused at save.
    const zone = await gw.api("POST", "/api/webhooks", { name: "x", preset: "salesforce", preset_config: { instance_url: sf.url, client_id: "a", client_secret: "b", time_zone: "New York" } });
    expect(zone.status).toBe(400);
    expect(zone.body.error.details).toEqual([{ field: "preset_config.time_zone", message: "must be an IANA time zone, e.g. America/New_York" }]);

    const unknown = await gw.api("POST", "/api/webhooks", { name: "x", preset: "zoho" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0]).toMatchObject({ field: "preset" });
  });
});

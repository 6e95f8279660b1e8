import { describe, expect, it } from "vitest";
import { callEvent } from "./support/events.js";
import { createWebhook, editWebhook } from "./support/gateway.js";
import { gatewayPerTest } from "./support/gateway-per-test.js";
import { deliveryOfNew } from "./support/ingest-and-settle.js";
import { Receiver, type Received, type Reply } from "./support/receiver.js";

// A CRM that takes its key in the URL's query (`?api_key=...`) gets it as a credential header would be kept:
// shown masked in every answer after the rule is saved (the rule, its deliveries, previews, test sends, what an
// attempt recorded), kept when the console saves back what it was shown, not carried to another host unseen,
// and filled in from the rule at each attempt, so that a rotated key reaches the deliveries waiting for a retry.
// Shared with the workerd suite.
const t = gatewayPerTest();

const KEY = "crm-url-key-5f1d9c0b7e22";
const NEW_KEY = "crm-url-key-rotated-a4e8";
/** How the key is shown: masked as any credential, its last 4 characters. */
const SHOWN = "****7e22";

/** The rule's URL: the key, a token written with Handlebars (event data, shown as written), and a plain setting. */
const urlOf = (base: string, key = KEY) => `${base}/notes?api_key=${key}&token={{uniqueid}}&source=pbx`;

const createRule = (body: Record<string, unknown>) => createWebhook(t.gw, { name: "CRM", ...body });
const edit = (rule: { id: string }, patch: Record<string, unknown>) => editWebhook(t.gw, rule, patch);

const deliveryOf = (rule: { id: string }, uniqueid: string) => deliveryOfNew(t.gw, t.source, rule, callEvent({ uniqueid }));

/** A CRM that echoes the request (as an error page might) and points elsewhere with it. */
const echoing = (request: Received): Reply => ({
  status: 302,
  headers: { location: `https://login.crm.example${request.target}`, "x-request": request.target },
  body: `no such note: ${request.target} (key ${request.query.get("api_key")})`,
});

const keyOf = (request: Received) => request.query.get("api_key");

describe("a credential in a rule's URL query", () => {
  it("is sent to the receiver and shown masked in every answer: rule, preview, test send, deliveries, attempts, event", async () => {
    t.receiver.handler = echoing;
    const created = await createRule({ url: urlOf(t.receiver.url), retries: 0 });
    // Masked even in the answer that created the rule: the integrator gave it.
    expect(created.url).toBe(urlOf(t.receiver.url, SHOWN));
    const delivery = await deliveryOf(created, "call.1");
    expect(delivery).toMatchObject({ status: "failed" });
    expect(keyOf(t.receiver.requests[0])).toBe(KEY);
    expect(t.receiver.requests[0].query.get("token")).toBe("call.1");

    const answers = [
      created,
      (await t.gw.api("GET", "/api/webhooks")).body,
      (await t.gw.api("GET", `/api/webhooks/${created.id}`)).body,
      (await t.gw.api("POST", `/api/webhooks/${created.id}/preview`)).body,
      (await t.gw.api("POST", "/api/preview", { webhook: { url: urlOf(t.receiver.url) } })).body,
      (await t.gw.api("POST", `/api/webhooks/${created.id}/test`)).body,
      (await t.gw.api("GET", "/api/deliveries")).body,
      (await t.gw.api("GET", `/api/deliveries/${delivery.id}`)).body,
      (await t.gw.api("GET", "/api/events")).body,
      (await t.gw.api("GET", `/api/events/${delivery.event_id}`)).body,
    ];
    await t.gw.settle();
    const shown = await t.gw.api("GET", `/api/deliveries/${delivery.id}`);
    answers.push(shown.body, (await t.gw.api("POST", `/api/deliveries/${delivery.id}/retry`)).body);
    await t.gw.settle();
    answers.push((await t.gw.api("GET", "/api/deliveries")).body);
    expect(t.receiver.requests.map(keyOf)).toEqual([KEY, KEY, KEY]);

    for (const answer of answers) expect(JSON.stringify(answer)).not.toContain(KEY.slice(0, 12));
    // Where the URL is shown, the key is masked and the rest is as written, or as rendered.
    expect(answers[2].url).toBe(urlOf(t.receiver.url, SHOWN));
    expect(answers[3].url).toMatch(/\/notes\?api_key=\*{4}7e22&token=[^&]+&source=pbx$/);
    const [attempt] = shown.body.attempts;
    // As rendered, a sensitive name's value is masked whatever made it, as a credential header's is.
    expect(shown.body.request.url).toBe(`${t.receiver.url}/notes?api_key=****&token=****&source=pbx`);
    expect(attempt.error).toBe(`HTTP 302: redirect to https://login.crm.example/notes?api_key=****&token=****&source=pbx not followed (set the rule's URL to it)`);
    expect(attempt.response_headers["x-request"]).toBe("/notes?api_key=****&token=****&source=pbx");
    expect(attempt.response_body).toBe("no such note: /notes?api_key=****&token=****&source=pbx (key ****)");
  });

  it("is kept when the rule is saved back as shown, refused when the masked text would be sent, and given again to move the rule's host", async () => {
    const created = await createRule({ url: urlOf(t.receiver.url), retries: 0 });
    // The console saves what it was shown, the URL included.
    const saved = await edit(created, { url: created.url, name: "CRM notes" });
    expect(saved.url).toBe(created.url);
    await deliveryOf(created, "call.1");
    expect(keyOf(t.receiver.requests[0])).toBe(KEY);

    // The masked text under a name with no key behind it would go out as the key.
    const renamed = await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { url: created.url.replace("api_key=", "apikey=") });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.details).toEqual([{ field: "url", message: expect.stringContaining(`apikey=${SHOWN} is how a stored credential is shown`) }]);

    const elsewhere = await new Receiver().start();
    try {
      // Pointed at another host with the key left masked: the key is not carried there unseen.
      const moved = await t.gw.api("PATCH", `/api/webhooks/${created.id}`, { url: urlOf(elsewhere.url, SHOWN) });
      expect(moved.status).toBe(400);
      expect(moved.body.error.details).toEqual([{ field: "url", message: expect.stringContaining("give the credential in its query parameter api_key again") }]);
      expect((await t.gw.api("GET", `/api/webhooks/${created.id}`)).body.url).toBe(urlOf(t.receiver.url, SHOWN));

      await edit(created, { url: urlOf(elsewhere.url, NEW_KEY) });
      await deliveryOf(created, "call.2");
      expect(elsewhere.requests.map(keyOf)).toEqual([NEW_KEY]);
      expect(t.receiver.requests).toHaveLength(1);
    } finally {
      await elsewhere.stop();
    }
  });

  it("is filled in from the rule at each attempt: a rotated key reaches a retry waiting and a failed delivery retried by hand", async () => {
    t.receiver.handler = (request) => ({ status: keyOf(request) === NEW_KEY ? 200 : 401 });
    t.receiver.replyWith({ status: 401 }, { status: 503, headers: { "retry-after": "60" } });
    const rule = await createRule({ url: urlOf(t.receiver.url), retries: 0 });
    const failed = await deliveryOf(rule, "call.1");
    expect(failed.status).toBe("failed");
    await edit(rule, { retries: 1 });
    const waiting = await deliveryOf(rule, "call.2");
    expect(waiting.status).toBe("pending");

    await edit(rule, { url: urlOf(t.receiver.url, NEW_KEY) });
    t.gw.clock.advance(60_000);
    await t.gw.sweep();
    expect((await t.gw.api("POST", `/api/deliveries/${failed.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    expect(t.receiver.requests.map(keyOf)).toEqual([KEY, KEY, NEW_KEY, NEW_KEY]);
    expect(t.receiver.requests.slice(2).map((r) => r.query.get("token")).sort()).toEqual(["call.1", "call.2"]);
    for (const d of [failed, waiting]) {
      const now = (await t.gw.api("GET", `/api/deliveries/${d.id}`)).body;
      expect(now).toMatchObject({ status: "delivered", request: { url: `${t.receiver.url}/notes?api_key=****&token=****&source=pbx` } });
    }
  });

  it("that the rule no longer gives as a fixed value is not sent as the text standing for it", async () => {
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "60" } });
    const rule = await createRule({ url: urlOf(t.receiver.url), retries: 1 });
    const waiting = await deliveryOf(rule, "call.1");
    expect(waiting.status).toBe("pending");

    await edit(rule, { url: `${t.receiver.url}/notes?api_key=key-{{agent.extension}}&token={{uniqueid}}&source=pbx` });
    t.gw.clock.advance(60_000);
    await t.gw.sweep();
    await t.gw.settle();
    const refused = (await t.gw.api("GET", `/api/deliveries/${waiting.id}`)).body;
    expect(refused.status).toBe("failed");
    expect(refused.last_error).toMatch(/^not sent: the rule's query parameter api_key changed since this delivery was made/);
    expect(t.receiver.requests).toHaveLength(1);

    expect((await t.gw.api("POST", `/api/deliveries/${waiting.id}/retry`)).status).toBe(202);
    await t.gw.settle();
    expect(t.receiver.requests.map(keyOf)).toEqual([KEY, "key-201"]);
    expect(t.receiver.requests.map((r) => r.target).join()).not.toContain("__SECRET__");
  });
});

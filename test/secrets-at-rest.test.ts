import { createHmac, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configFromEnv } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { callEvent } from "./support/events.js";
import { projectJson } from "./support/files.js";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway, type TestGateway } from "./support/gateway.js";
import { spawnGateway } from "./support/gateway-process.js";
import { Receiver } from "./support/receiver.js";
import { SalesforceStandIn } from "./support/salesforce-standin.js";

// Secrets at rest: sealed with AES-256-GCM in the database file, plaintext to the code that uses them,
// masked in responses, absent from logs; a wrong or missing key stops the gateway with the reason.

const KEY_A = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
const KEY_B = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";
const WILDIX_SECRET = "wildix-integration-secret-5f0c";
const API_KEY = "crm-api-key-7d3e9b21";
/** A key the CRM takes in the URL's query. */
const URL_KEY = "crm-url-key-0c4f8a63";
const SQS_SECRET_KEY = "sqs-secret-access-key-3c9a";

let dir: string;
let gw: TestGateway | undefined;
let receiver: Receiver;
let sf: SalesforceStandIn;
let logs: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-secrets-"));
  receiver = await new Receiver().start();
  sf = await new SalesforceStandIn().start();
  logs = [];
});
afterEach(async () => {
  await gw?.stop(false);
  gw = undefined;
  await receiver.stop();
  await sf.stop();
  rmSync(dir, { recursive: true, force: true });
});

const start = (encryptionKey?: string) =>
  startGateway({ dir, encryptionKey, log: createLogger("debug", (line) => logs.push(line)) });

/** Every row of every table of the database file, as text, read past the gateway. */
async function databaseText(): Promise<string> {
  const client = createClient({ url: `file:${join(dir, "gateway.db")}` });
  try {
    const tables = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'");
    const dumps = await Promise.all(tables.rows.map((t) => client.execute(`SELECT * FROM "${t.name}"`)));
    return JSON.stringify(dumps.map((d) => d.rows));
  } finally {
    client.close();
  }
}

/** The database's bytes on disk, its write-ahead log included. */
function databaseBytes(): string {
  return ["gateway.db", "gateway.db-wal"]
    .map((file) => join(dir, file))
    .filter(existsSync)
    .map((file) => readFileSync(file).toString("latin1"))
    .join("");
}

async function execute(sql: string, args: (string | number)[] = []) {
  const client = createClient({ url: `file:${join(dir, "gateway.db")}` });
  try {
    return await client.execute({ sql, args });
  } finally {
    client.close();
  }
}

function postWildix(gateway: TestGateway, sourceId: string, secret: string) {
  const body = JSON.stringify(projectJson("test/fixtures/wildix/call-end.json"));
  return gateway.send(`/ingest/${sourceId}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-signature": createHmac("sha256", secret).update(body).digest("hex") },
    body,
  });
}

/** A source of each kind of secret and two rules: one signing with a credential header, one Salesforce. */
async function createSecrets(gateway: TestGateway) {
  const wildix = await createSource(gateway, "Wildix", "wildix", WILDIX_SECRET);
  const canonical = await createSource(gateway, "PBX");
  const signed = await createWebhook(gateway, {
    url: `${receiver.url}/calls?api_key=${URL_KEY}&agent={{agent.extension}}`,
    events: ["call.end"],
    method: "POST_JSON",
    headers: { "X-Api-Key": API_KEY, "X-Agent": "{{agent.extension}}" },
    signing: "hmac-hex",
  });
  const salesforce = await createWebhook(gateway, {
    name: "Salesforce calls",
    events: ["call.end"],
    source_ids: [canonical.id],
    preset: "salesforce",
    preset_config: { instance_url: sf.url, client_id: sf.clientId, client_secret: sf.clientSecret, refresh_token: sf.refreshToken },
  });
  // An SQS rule for another event type: its credentials are stored, not used here (test/sqs.test.ts sends).
  const queue = await createWebhook(gateway, {
    name: "SQS calls",
    events: ["call.start"],
    transport: "sqs",
    url: `${receiver.url}/123456789012/calls`,
    sqs: { region: "eu-west-1", access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: SQS_SECRET_KEY },
  });
  const secrets = [WILDIX_SECRET, canonical.secret, signed.secret, API_KEY, URL_KEY, sf.clientSecret, sf.refreshToken, SQS_SECRET_KEY];
  return { wildix, canonical, signed, salesforce, queue, secrets };
}

describe("secrets at rest", () => {
  it("are sealed in the database file, masked by the API, absent from logs, and still verify, sign and authenticate", async () => {
    gw = await start();
    const { wildix, canonical, signed, salesforce, queue, secrets } = await createSecrets(gw);

    receiver.replyWith({ status: 503 });
    expect((await postWildix(gw, wildix.id, WILDIX_SECRET)).status).toBe(202);
    expect((await postWildix(gw, wildix.id, "not-the-secret")).status).toBe(401);
    const answer = await ingest(gw, canonical, callEvent({ uniqueid: "sealed.1" }));
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries).toBe(2);
    await gw.settle();

    // The rule's request: its credential header as configured, signed with its secret, after a retry.
    const [, sent] = receiver.requests.filter((r) => r.path === "/calls");
    expect(sent.headers["x-api-key"]).toBe(API_KEY);
    expect(sent.query.get("api_key")).toBe(URL_KEY);
    expect(sent.headers["x-signature"]).toBe(createHmac("sha256", signed.secret).update(sent.body).digest("hex"));
    // The Salesforce rule's secret settings reached the token endpoint.
    const [tokenRequest] = sf.requestsTo("/services/oauth2/token");
    expect(new URLSearchParams(tokenRequest.body).get("client_secret")).toBe(sf.clientSecret);
    expect(new URLSearchParams(tokenRequest.body).get("refresh_token")).toBe(sf.refreshToken);
    const deliveries = await deliveriesOf(gw, answer.body.event_id);
    expect(deliveries.map((d) => d.status)).toEqual(["delivered", "delivered"]);

    // Masked after creation.
    expect((await gw.api("GET", `/api/sources/${wildix.id}`)).body.secret).toBe("****5f0c");
    const rule = (await gw.api("GET", `/api/webhooks/${signed.id}`)).body;
    expect(rule.headers["X-Api-Key"]).toBe("****9b21");
    expect(rule.url).toBe(`${receiver.url}/calls?api_key=****8a63&agent={{agent.extension}}`);
    expect(rule.secret).toMatch(/^\*\*\*\*/);
    const sfRule = (await gw.api("GET", `/api/webhooks/${salesforce.id}`)).body;
    expect(sfRule.preset_config).toMatchObject({ client_secret: "****1f2a", refresh_token: "****oken", client_id: sf.clientId });
    expect((await gw.api("GET", `/api/webhooks/${queue.id}`)).body.sqs).toMatchObject({ secret_access_key: "****3c9a", access_key_id: "AKIAIOSFODNN7EXAMPLE" });
    const responses = JSON.stringify([
      (await gw.api("GET", "/api/sources")).body,
      (await gw.api("GET", "/api/webhooks")).body,
      (await gw.api("GET", "/api/deliveries")).body,
      deliveries,
    ]);

    await gw.stop(false);
    gw = undefined;
    const text = await databaseText();
    const bytes = databaseBytes();
    for (const secret of secrets) {
      expect(text, secret).not.toContain(secret);
      expect(bytes, secret).not.toContain(secret);
      expect(responses, secret).not.toContain(secret);
      expect(logs.join("\n"), secret).not.toContain(secret);
    }
    expect(text).toMatch(/enc:v1:[0-9a-f]{8}:/);
    // What is not secret stays readable in the file, for people and for queries.
    expect(text).toContain(sf.clientId);
    expect(text).toContain("AKIAIOSFODNN7EXAMPLE");
    expect(text).toContain("{{agent.extension}}");
    expect(logs.some((line) => line.includes("attempt failed, will retry"))).toBe(true);
  });

  it("opens only the fields it seals: a sealed value copied elsewhere, or an event's text shaped like one, stays as it is", async () => {
    gw = await start();
    const { signed, canonical } = await createSecrets(gw);
    const [{ headers }] = (await execute("SELECT headers FROM webhooks WHERE id = ?", [signed.id])).rows as unknown as Array<{ headers: string }>;
    const sealed = JSON.parse(headers)["X-Api-Key"] as string;
    expect(sealed).toMatch(/^enc:v1:[0-9a-f]{8}:/);

    // Copied from the database (a backup, say) into an ordinary header: not a way to have it decrypted.
    const copy = await createWebhook(gw, { url: `${receiver.url}/copy`, events: ["call.start"], headers: { "X-Note": sealed, "X-Caller": "{{caller_name}}" } });
    expect((await gw.api("GET", `/api/webhooks/${copy.id}`)).body.headers["X-Note"]).toBe(sealed);
    // A caller name shaped like a sealed value (a broken one) is sent and listed as text, not opened.
    const shaped = "enc:v1:00000000:AAAA";
    expect((await ingest(gw, canonical, callEvent({ type: "call.start", caller_name: shaped }))).status).toBe(202);
    await gw.settle();
    const sent = receiver.requests.find((r) => r.path === "/copy")!;
    expect([sent.headers["x-note"], sent.headers["x-caller"]]).toEqual([sealed, shaped]);
    const listed = await gw.api("GET", `/api/deliveries?webhook_id=${copy.id}`);
    expect(listed.status).toBe(200);
    expect(listed.body.data[0].request.headers).toMatchObject({ "X-Note": sealed, "X-Caller": shaped });
    expect(JSON.stringify(listed.body)).not.toContain(API_KEY);
  });

  it("generates a key file (0600) beside the database on first start and reuses it on the next", async () => {
    gw = await start();
    const source = await createSource(gw, "Wildix", "wildix", WILDIX_SECRET);
    expect(gw.encryptionKey).toEqual({ origin: "generated", file: join(dir, "encryption.key") });
    expect(statSync(join(dir, "encryption.key")).mode & 0o777).toBe(0o600);
    await gw.stop(false);

    gw = await start();
    expect(gw.encryptionKey.origin).toBe("file");
    expect((await postWildix(gw, source.id, WILDIX_SECRET)).status).toBe(202);
  });

  it("says at start when the key file put back by hand may be read by other users, and not once it may not", async () => {
    // As `echo <key> > encryption.key` leaves it with the usual umask. Before: the start line named the file only.
    const file = join(dir, "encryption.key");
    writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const options = { databaseFile: join(dir, "gateway.db"), logLevel: "info", env: { ENCRYPTION_KEY: "" } };
    const exposed = await spawnGateway(options);
    await exposed.kill();
    expect(exposed.printed).toContain(`Encryption key for secrets at rest: ${file}, which other users of this machine may read: chmod 600 it`);
    chmodSync(file, 0o600);
    const kept = await spawnGateway(options);
    await kept.kill();
    expect(kept.printed).toMatch(new RegExp(`^Encryption key for secrets at rest: ${file.replace(/[.]/g, "\\.")}$`, "m"));
  });

  it("refuses to start with a wrong key, or without the key file the database was sealed with", async () => {
    gw = await start(KEY_A);
    await createSource(gw, "Wildix", "wildix", WILDIX_SECRET);
    await gw.stop(false);
    gw = undefined;

    await expect(start(KEY_B)).rejects.toThrow(/ENCRYPTION_KEY does not open this database's secrets, which are sealed with key [0-9a-f]{8}/);
    await expect(start()).rejects.toThrow(/ENCRYPTION_KEY is not set and .*encryption\.key does not exist, but this database's secrets are sealed/);
    expect(existsSync(join(dir, "encryption.key"))).toBe(false);
    expect(() => configFromEnv({ ENCRYPTION_KEY: "too-short" })).toThrow(/ENCRYPTION_KEY must be 32 bytes in base64/);
  });

  it("names where a key that does not open the database came from: the key file, or ENCRYPTION_KEY over the file in use", async () => {
    gw = await start();
    await createSource(gw, "Wildix", "wildix", WILDIX_SECRET);
    await gw.stop(false);
    gw = undefined;
    const file = join(dir, "encryption.key");
    const inUse = readFileSync(file, "utf8");

    // Given for production over the key file the first start wrote: the refusal points to that file.
    const overridden = start(KEY_B);
    await expect(overridden).rejects.toThrow(/^ENCRYPTION_KEY does not open this database's secrets, which are sealed with key [0-9a-f]{8}/);
    await expect(overridden).rejects.toThrow(`the key in use is in ${file}, which ENCRYPTION_KEY overrides`);

    // No ENCRYPTION_KEY, but another key in the file: the file is named, not ENCRYPTION_KEY.
    writeFileSync(file, `${KEY_B}\n`);
    await expect(start()).rejects.toThrow(new RegExp(`^The key in ${file} does not open this database's secrets, which are sealed with key [0-9a-f]{8}`));
    // A wrong ENCRYPTION_KEY with no key file in use beside it: nothing more to say than that.
    await expect(start(KEY_A)).rejects.toThrow(/\(ENCRYPTION_KEY's key is [0-9a-f]{8}\)\. Set ENCRYPTION_KEY to the key in use/);

    writeFileSync(file, inUse);
    gw = await start();
  });

  it("rotates: with the new key first and the old one after it, everything is sealed anew with the new key", async () => {
    gw = await start(KEY_A);
    const { wildix, canonical, secrets } = await createSecrets(gw);
    // Deliveries over more than one page of the sealing pass (100), each with the rule's API key header.
    expect((await ingest(gw, canonical, Array.from({ length: 120 }, () => callEvent()))).status).toBe(202);
    await gw.stop(false);
    expect(String((await execute("SELECT count(*) AS n FROM deliveries")).rows[0].n)).toBe("240");
    const sealedWith = async () => new Set((await databaseText()).match(/enc:v1:[0-9a-f]{8}/g));
    const [keyA] = await sealedWith();

    gw = await start(`${KEY_B},${KEY_A}`);
    await gw.stop(false);
    const afterRotation = await sealedWith();
    expect(afterRotation.size).toBe(1);
    expect(afterRotation.has(keyA)).toBe(false);

    gw = await start(KEY_B);
    expect((await postWildix(gw, wildix.id, WILDIX_SECRET)).status).toBe(202);
    expect((await ingest(gw, canonical, callEvent())).status).toBe(202);
    await gw.settle();
    expect(receiver.requests[0].headers["x-api-key"]).toBe(API_KEY);
    expect(receiver.requests[0].query.get("api_key")).toBe(URL_KEY);
    for (const secret of secrets) expect(await databaseText()).not.toContain(secret);
  });

  it("reads plaintext rows written before encryption, and seals them at the next start", async () => {
    gw = await start();
    const { wildix, signed, queue } = await createSecrets(gw);
    receiver.replyWith({ status: 400 });
    expect((await postWildix(gw, wildix.id, WILDIX_SECRET)).status).toBe(202);
    await gw.settle();
    await gw.stop(false);
    gw = undefined;
    // The database as the previous version left it: plaintext secrets, no key check.
    const [delivery] = (await execute("SELECT id, request FROM deliveries")).rows;
    const request = JSON.parse(String(delivery.request));
    request.headers["X-Api-Key"] = API_KEY;
    // As the previous version rendered it: the URL's key as written, no placeholder.
    request.url = `${receiver.url}/calls?api_key=${URL_KEY}&agent=201`;
    await execute("UPDATE deliveries SET request = ? WHERE id = ?", [JSON.stringify(request), String(delivery.id)]);
    await execute("UPDATE sources SET secret = ? WHERE id = ?", [WILDIX_SECRET, wildix.id]);
    const plainUrl = `${receiver.url}/calls?api_key=${URL_KEY}&agent={{agent.extension}}`;
    await execute("UPDATE webhooks SET secret = ?, headers = ?, url = ? WHERE id = ?", [signed.secret, JSON.stringify({ "X-Api-Key": API_KEY }), plainUrl, signed.id]);
    await execute("UPDATE webhooks SET sqs = ? WHERE id = ?", [JSON.stringify({ ...queue.sqs, secret_access_key: SQS_SECRET_KEY }), queue.id]);
    await execute("DELETE FROM settings WHERE key = 'secrets_key_check'");
    expect(await databaseText()).toContain(WILDIX_SECRET);

    gw = await start();
    expect(logs.some((line) => line.includes("secrets at rest sealed with the current key"))).toBe(true);
    for (const secret of [WILDIX_SECRET, signed.secret, API_KEY, URL_KEY, SQS_SECRET_KEY]) expect(await databaseText()).not.toContain(secret);
    expect((await gw.api("GET", `/api/webhooks/${queue.id}`)).body.sqs.secret_access_key).toBe("****3c9a");
    const retried = await gw.api("POST", `/api/deliveries/${delivery.id}/retry`);
    expect(retried.status).toBe(202);
    await gw.settle();
    const [, sent] = receiver.requests;
    expect(sent.headers["x-api-key"]).toBe(API_KEY);
    expect(sent.query.get("api_key")).toBe(URL_KEY);
    expect(sent.headers["x-signature"]).toBe(createHmac("sha256", signed.secret).update(sent.body).digest("hex"));
  });
});

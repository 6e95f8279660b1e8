import { afterEach, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startGateway, type TestGateway } from "./support/gateway.js";

// Node only: a Worker knows its client from Cloudflare's CF-Connecting-IP, not from X-Forwarded-For.

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe("admin auth failures behind a reverse proxy", () => {
  const fromClient = (address: string, token: string) =>
    gw!.send("/api/sources", { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": `203.0.113.9, ${address}` } });

  it("counts each client by the address its proxy saw (TRUST_PROXY_HOPS=1), so one guessing locks out only itself", async () => {
    gw = await startGateway({ trustProxyHops: 1 });
    for (let i = 0; i < 10; i++) expect((await fromClient("198.51.100.7", `wrong-token-${i}`)).status).toBe(401);
    expect((await fromClient("198.51.100.7", ADMIN_TOKEN)).status).toBe(429);
    // The entry left of the proxy's own is the client's to invent: it is not who is counted.
    expect((await fromClient("198.51.100.8", ADMIN_TOKEN)).status).toBe(200);
  });

  it("counts an IPv6 client by its /64, so that changing addresses within it buys no more guesses", async () => {
    gw = await startGateway({ trustProxyHops: 1 });
    for (let i = 0; i < 10; i++) expect((await fromClient(`2001:db8:7:1::${i + 1}`, `wrong-token-${i}`)).status).toBe(401);
    // Before: each address had its own ten, so a /64 had 2^64 times ten a minute.
    expect((await fromClient("2001:db8:7:1:ffff::99", "wrong-token-10")).status).toBe(429);
    expect((await fromClient("2001:db8:7:1:0:0:0:1", ADMIN_TOKEN)).status).toBe(429);
    expect((await fromClient("2001:db8:7:2::1", ADMIN_TOKEN)).status).toBe(200);
    // An IPv4 client is one address, written mapped or not.
    for (let i = 0; i < 10; i++) expect((await fromClient("198.51.100.7", `wrong-token-${i}`)).status).toBe(401);
    expect((await fromClient("::ffff:198.51.100.7", ADMIN_TOKEN)).status).toBe(429);
    expect((await fromClient("198.51.100.8", ADMIN_TOKEN)).status).toBe(200);
  });

  it("ignores X-Forwarded-For without TRUST_PROXY_HOPS, which anyone could send", async () => {
    gw = await startGateway();
    for (let i = 0; i < 10; i++) expect((await fromClient(`198.51.100.${i}`, `wrong-token-${i}`)).status).toBe(401);
    expect((await fromClient("198.51.100.99", ADMIN_TOKEN)).status).toBe(429);
  });
});

describe("a source's ingest URL behind a reverse proxy that ends TLS", () => {
  const viaProxy = (headers: Record<string, string>) =>
    gw!.send("/api/sources", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ name: "PBX", kind: "canonical" }),
    });
  // The host is the one the request names (the proxy passes the client's on); fetch always sends the gateway's own.
  const host = () => new URL(gw!.url).host;

  it("is the https URL the PBX reaches (TRUST_PROXY_HOPS=1 and the proxy's X-Forwarded-Proto)", async () => {
    gw = await startGateway({ trustProxyHops: 1 });
    const created = await viaProxy({ "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7" });
    expect(created.status).toBe(201);
    // Before: http://..., a URL the proxy does not serve.
    expect(created.body.ingest_url).toBe(`https://${host()}/ingest/${created.body.id}`);
    const listed = await gw.send("/api/sources", { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "x-forwarded-proto": "HTTPS, http" } });
    expect(listed.body.data[0].ingest_url).toBe(`https://${host()}/ingest/${created.body.id}`);
  });

  it("ignores X-Forwarded-Proto without TRUST_PROXY_HOPS", async () => {
    gw = await startGateway();
    const created = await viaProxy({ "x-forwarded-proto": "https" });
    expect(created.body.ingest_url).toBe(`http://${host()}/ingest/${created.body.id}`);
  });
});

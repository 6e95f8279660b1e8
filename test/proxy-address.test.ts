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

  it("ignores X-Forwarded-For without TRUST_PROXY_HOPS, which anyone could send", async () => {
    gw = await startGateway();
    for (let i = 0; i < 10; i++) expect((await fromClient(`198.51.100.${i}`, `wrong-token-${i}`)).status).toBe(401);
    expect((await fromClient("198.51.100.99", ADMIN_TOKEN)).status).toBe(429);
  });
});

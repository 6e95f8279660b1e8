import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { parseOutboundAllow } from "../src/delivery/address-policy.js";
import { DEFAULT_DISPATCHER_LIMITS } from "../src/delivery/dispatcher.js";
import { createNodeTransport } from "../src/runtime/node-transport.js";

// The baseline: a minimal Hono handler that forwards each posted event to TARGET_URL with the gateway's
// pooled client, and nothing else (no verification, persistence, matching or rendering). It answers 202
// at once and forwards in the background, as the gateway answers once committed and delivers afterwards.

const target = process.env.TARGET_URL!;
// The same guard as the gateway's, allowing the bench's receiver on loopback.
const transport = createNodeTransport(parseOutboundAllow("127.0.0.0/8,::1").allow, DEFAULT_DISPATCHER_LIMITS.concurrency);
const app = new Hono();

app.post("/ingest/:sourceId", async (c) => {
  const body = await c.req.text();
  transport
    .fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body })
    .then((reply) => reply.excerpt())
    .catch((error) => console.error("forward failed", String(error)));
  return c.json({ forwarded: true }, 202);
});

// Exit (rather than die) on SIGTERM, so that a CPU profile (`BENCH_CPU_PROFILE`) is written.
process.once("SIGTERM", () => process.exit(0));

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 0) }, () => {
  console.log(`Bare forwarder listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

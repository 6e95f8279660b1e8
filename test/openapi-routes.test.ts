import { afterEach, beforeEach, expect, it } from "vitest";
import { startGateway, type TestGateway } from "./support/gateway.js";

// Node only: the served app's own route table. Every API route it handles is in the OpenAPI document.
let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway();
});
afterEach(() => gw.stop());

/** The console (`/`, its assets) is a web page, not part of the API. */
const isApi = (path: string) => path === "/health" || path === "/metrics" || path === "/openapi.json" || /^\/(api|ingest)\//.test(path);

it("documents every route the app serves", async () => {
  const doc = (await gw.send("/openapi.json", { method: "GET" })).body;
  const served = gw.app.routes
    .filter((route) => route.method !== "ALL" && isApi(route.path))
    .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/\/$/, "").replace(/:(\w+)/g, "{$1}") || "/"}`);
  const documented = Object.entries<any>(doc.paths).flatMap(([path, item]) =>
    ["get", "post", "put", "patch", "delete"].filter((method) => item[method]).map((method) => `${method} ${path}`),
  );
  expect(served.length).toBeGreaterThan(20);
  expect([...new Set(served)].sort()).toEqual(documented.sort());
});

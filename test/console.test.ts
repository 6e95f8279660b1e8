import { mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createWebhook, startGateway, type TestGateway } from "./support/gateway.js";
import { Receiver } from "./support/receiver.js";

// The console in Debian's Chromium, driven by playwright-core, against the real gateway. Screenshots of the
// main screens go to docs/screenshots/ (linked from the README).

const SCREENSHOTS = new URL("../docs/screenshots/", import.meta.url).pathname;
let browser: Browser;
let gw: TestGateway;
let receiver: Receiver;
let page: Page;
let requested: string[];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
});
afterAll(() => browser?.close());

beforeEach(async () => {
  gw = await startGateway();
  receiver = await new Receiver().start();
  page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
  requested = [];
  page.on("request", (request) => requested.push(request.url()));
});
afterEach(async () => {
  await page.close();
  await gw.stop();
  await receiver.stop();
  // Nothing but the gateway itself was asked for anything.
  expect(requested.filter((url) => !url.startsWith(gw.url))).toEqual([]);
});

async function signIn(token = ADMIN_TOKEN) {
  await page.goto(`${gw.url}/`);
  await page.getByLabel("Admin token").fill(token);
  await page.keyboard.press("Enter");
}

describe("console", () => {
  it("refuses a wrong token and signs in with the admin token", async () => {
    await signIn("not-the-admin-token-at-all");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("That token is not valid.");
    expect(await page.getByRole("link", { name: "Webhooks" }).isVisible()).toBe(false);
    await page.screenshot({ path: `${SCREENSHOTS}sign-in.png` });
    await signIn();
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();
  });

  it("creates a source and shows its ingest URL and secret once", async () => {
    await signIn();
    await page.getByRole("link", { name: "Sources" }).click();
    await page.getByLabel("Name").fill("Office Wildix");
    await page.getByLabel("PBX").selectOption("wildix");
    await page.getByRole("button", { name: "Create source" }).click();
    const secret = await page.locator("#source-secret").textContent();
    const { body } = await gw.api("GET", "/api/sources");
    expect(body.data).toHaveLength(1);
    expect(secret).toMatch(/^sk_/);
    expect(body.data[0].secret).not.toBe(secret);
    await expect.poll(() => page.locator("table").textContent()).toContain(`${gw.url}/ingest/${body.data[0].id}`);
    await page.screenshot({ path: `${SCREENSHOTS}sources.png`, fullPage: true });
  });

  it("lists webhooks with their columns, toggles one and deletes one after confirmation", async () => {
    const long = `${receiver.url}/a/very/long/path/${"segment/".repeat(20)}?with=query&and=more`;
    const crm = await createWebhook(gw, { name: "CRM call log", url: long, events: ["call.end", "call.start"] });
    await createWebhook(gw, { name: "Slack", url: `${receiver.url}/slack`, method: "POST" });
    await signIn();
    const row = page.locator(`tr[data-id="${crm.id}"]`);
    await expect.poll(() => row.textContent()).toContain("CRM call log");
    expect(await row.textContent()).toContain("call.end, call.start");
    expect(await row.textContent()).toContain("POST_JSON");
    // A long URL wraps inside its column instead of widening the table past the screen.
    const table = (await page.locator("#webhooks").boundingBox())!;
    expect(table.x + table.width).toBeLessThanOrEqual(1366);
    const deleteButton = (await row.getByRole("button", { name: "Delete" }).boundingBox())!;
    expect(deleteButton.x + deleteButton.width).toBeLessThanOrEqual(table.x + table.width);
    await page.screenshot({ path: `${SCREENSHOTS}webhooks.png`, fullPage: true });

    await row.getByRole("button", { name: "Deactivate" }).click();
    await expect.poll(async () => (await gw.api("GET", `/api/webhooks/${crm.id}`)).body.enabled).toBe(false);
    await expect.poll(() => page.locator(`tr[data-id="${crm.id}"]`).textContent()).toContain("inactive");

    page.once("dialog", (dialog) => dialog.accept());
    await page.locator(`tr[data-id="${crm.id}"]`).getByRole("button", { name: "Delete" }).click();
    await expect.poll(async () => (await gw.api("GET", `/api/webhooks/${crm.id}`)).status).toBe(404);
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
  });
});

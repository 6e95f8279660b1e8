import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../src/domain/event.js";
import { consolePerTest, VIEWPORT } from "./support/console-page.js";
import { createSource, createWebhook, ingest } from "./support/gateway.js";
import { projectJson } from "./support/files.js";
import { SalesforceStandIn } from "./support/salesforce-standin.js";
import { LocalSqs, SQS_CREDENTIALS } from "./support/sqs.js";

// The console in Debian's Chromium, driven by playwright-core, against the real gateway and real receivers.
// Screenshots of the main screens go to docs/screenshots/ (linked from the README).

const SCREENSHOTS = new URL("../docs/screenshots/", import.meta.url).pathname;
mkdirSync(SCREENSHOTS, { recursive: true });
const session = consolePerTest();
const t = session.t;
const signIn = session.signIn;
let page: Page;
beforeEach(() => {
  page = session.page;
});

/** Nothing is wider than the window: long URLs and bodies wrap or scroll inside their box. */
async function expectNoHorizontalOverflow() {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(VIEWPORT.width);
}

/** Each status badge of the table stays on one line within its cell, in narrower windows too (a laptop's half screen). */
async function expectBadgesWhole(table: string, count: number) {
  for (const width of [VIEWPORT.width, 1000, 800]) {
    await page.setViewportSize({ width, height: VIEWPORT.height });
    const badges = await page.locator(`${table} td .badge`).evaluateAll((all) =>
      all.map((badge) => {
        const text = document.createRange();
        text.selectNodeContents(badge);
        return { lines: text.getClientRects().length, inside: badge.getBoundingClientRect().right <= badge.closest("td")!.getBoundingClientRect().right };
      }),
    );
    expect(badges, `${width} px`).toEqual(Array(count).fill({ lines: 1, inside: true }));
  }
  await page.setViewportSize(VIEWPORT);
}

/** Columns whose every word stays whole: dates, and the short words of a type, a PBX, a method, event names, a count, a direction, a link. */
const WHOLE_WORDS = /^(created|received|started|type|pbx|method|events|direction|attempts|preview)$/i;

/**
 * No word of the table's column headers, nor of its columns named in WHOLE_WORDS, is broken across lines
 * ("METH OD", "11/20/20 26,") or sticks out of its cell, in narrower windows too (a laptop's half screen); they
 * may wrap between words. `rows` is how many rows the table shows, so that it never passes on none.
 */
async function expectWordsWhole(table: string, rows: number) {
  for (const width of [VIEWPORT.width, 1000, 800]) {
    await page.setViewportSize({ width, height: VIEWPORT.height });
    const found = await page.locator(table).evaluate((el, pattern) => {
      const heads = [...el.querySelectorAll("thead th")];
      const whole = heads.flatMap((th, i) => (new RegExp(pattern, "i").test(th.textContent!.trim()) ? [i] : []));
      const body = [...el.querySelectorAll("tbody tr")];
      const broken: string[] = [];
      for (const cell of [...heads, ...body.flatMap((tr) => whole.map((i) => tr.children[i]))]) {
        const right = cell.getBoundingClientRect().right;
        const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = texts.nextNode(); node; node = texts.nextNode()) {
          for (const word of node.textContent!.matchAll(/\S+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index!);
            range.setEnd(node, word.index! + word[0].length);
            const rects = range.getClientRects();
            if (rects.length !== 1 || rects[0].right > right + 0.5) broken.push(`${word[0]} (${rects.length} lines)`);
          }
        }
      }
      return { columns: heads.length, checked: whole.length > 0, rows: body.length, broken };
    }, WHOLE_WORDS.source);
    expect(found, `${width} px`).toEqual({ columns: found.columns, checked: true, rows, broken: [] });
  }
  await page.setViewportSize(VIEWPORT);
}

const previewLine = () => page.locator("#preview-request .request-line").textContent();

describe("console", () => {
  it("refuses a wrong token and signs in with the admin token", async () => {
    await signIn("not-the-admin-token-at-all");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("That token is not valid.");
    expect(await page.getByRole("link", { name: "Webhooks" }).isVisible()).toBe(false);
    expect(await page.title()).toBe("Sign in · Call-event gateway");
    await page.screenshot({ path: `${SCREENSHOTS}sign-in.png` });
    await signIn();
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();
  });

  it("says what the gateway said when it refuses a sign-in for too many wrong tokens", async () => {
    for (let i = 0; i < 10; i++) await fetch(`${t.gw.url}/api/presets`, { headers: { authorization: "Bearer wrong" } });
    await signIn("not-the-admin-token-at-all");
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/^Too many wrong admin tokens from this address; retry after \d+ s$/);
  });

  it("creates a source, shows what it refuses under the field, and its ingest URL and secret once", async () => {
    await signIn();
    await page.getByRole("link", { name: "Sources" }).click();
    await expect.poll(() => page.title()).toBe("Sources · Call-event gateway");
    // Refused: each problem under its field, marked invalid, and focus on the first.
    await page.getByLabel("Secret (optional)").fill("short");
    await page.getByRole("button", { name: "Create source" }).click();
    const errorOf = (label: string) => page.getByLabel(label, { exact: true }).evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent);
    await expect.poll(() => errorOf("Name")).toBeTruthy();
    expect(await errorOf("Secret (optional)")).toBeTruthy();
    expect(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.closest(".field")?.querySelector("label")?.textContent)).toBe("Name");
    expect((await t.gw.api("GET", "/api/sources")).body.data).toEqual([]);
    // Typing answers the field's error.
    await page.keyboard.type("Office Wildix");
    expect(await errorOf("Name")).toBeFalsy();
    expect(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid")).toBeNull();

    await page.getByLabel("Secret (optional)").fill("");
    // Each PBX by its name, and where its secret comes from for the one chosen.
    expect(await page.getByLabel("PBX").locator("option").allTextContents()).toEqual(["Canonical JSON (a script of your own)", "Wildix", "VoIPcloud", "VoIPAppz"]);
    const secretHint = page.locator(".field", { has: page.getByLabel("Secret (optional)") }).locator(".hint");
    expect(await secretHint.textContent()).toMatch(/^Empty: the gateway generates one/);
    await page.getByLabel("PBX").selectOption("voipcloud");
    expect(await secretHint.textContent()).toContain("Secret Token typed in VoIPcloud's Global Webhooks");
    await page.getByLabel("PBX").selectOption("wildix");
    expect(await secretHint.textContent()).toContain("Paste the Secret Wildix generated");
    await page.getByRole("button", { name: "Create source" }).click();
    const secret = await page.locator("#source-secret").textContent();
    const { body } = await t.gw.api("GET", "/api/sources");
    expect(body.data).toHaveLength(1);
    expect(secret).toMatch(/^sk_/);
    expect(body.data[0].secret).not.toBe(secret);
    // Focus moves to the one-time secret, which a screen reader then reads by its heading.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("source-secret-panel");
    expect(await page.getByRole("region", { name: "Source “Office Wildix” created" }).isVisible()).toBe(true);
    await expect.poll(() => page.locator("#sources").textContent()).toContain(`${t.gw.url}/ingest/${body.data[0].id}`);
    expect(await page.locator(`#sources tr[data-id="${body.data[0].id}"] td`).nth(1).textContent()).toBe("Wildix");
    await page.screenshot({ path: `${SCREENSHOTS}sources.png`, fullPage: true });
  });

  it("renames, deactivates, gives a new secret to and deletes a source, keeping focus", async () => {
    const office = await createSource(t.gw, "Office", "voipappz");
    const other = await createSource(t.gw, "Warehouse", "canonical");
    const payload = projectJson<Record<string, unknown>>("test/fixtures/voipappz/call-hangup.json");
    await signIn();
    await page.getByRole("link", { name: "Sources" }).click();
    const focusedLabel = () => page.evaluate(() => document.activeElement?.getAttribute("aria-label"));

    // Rename in place: a refused name shows under the input, which keeps focus; Escape puts the name back.
    await page.getByRole("button", { name: "Rename Office", exact: true }).click();
    const input = page.getByLabel("New name for Office");
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("Escape");
    expect(await focusedLabel()).toBe("Rename Office");
    expect(await page.locator(`tr[data-id="${office.id}"] td`).first().textContent()).toBe("Office");
    await page.keyboard.press("Enter");
    await input.fill("   ");
    await page.keyboard.press("Enter");
    await expect.poll(() => input.evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent)).toBeTruthy();
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    await input.fill("Head office");
    await page.keyboard.press("Enter");
    await expect.poll(async () => (await t.gw.api("GET", `/api/sources/${office.id}`)).body.name).toBe("Head office");
    await expect.poll(focusedLabel).toBe("Rename Head office");

    await page.getByRole("button", { name: "Deactivate Head office", exact: true }).click();
    await expect.poll(async () => (await t.gw.api("GET", `/api/sources/${office.id}`)).body.enabled).toBe(false);
    await expect.poll(focusedLabel).toBe("Activate Head office");
    expect(await page.locator(`tr[data-id="${office.id}"]`).textContent()).toContain("inactive");
    await page.keyboard.press("Enter");
    await expect.poll(focusedLabel).toBe("Deactivate Head office");
    await expectBadgesWhole("#sources", 2);
    await expectWordsWhole("#sources", 2);

    // A new secret, in place: Escape keeps the old one; left empty, the gateway generates one, shown once and focused.
    const secretButton = page.getByRole("button", { name: "New secret for Head office" });
    const secretInput = page.getByLabel("Secret for Head office", { exact: true });
    await secretButton.click();
    expect(await secretInput.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await page.locator(`tr[data-id="${office.id}"] .hint`).textContent()).toContain("What the PBX posts with the old one is refused from then on.");
    await expectNoHorizontalOverflow();
    await page.keyboard.press("Escape");
    expect(await focusedLabel()).toBe("New secret for Head office");
    expect(await page.locator("#source-secret").count()).toBe(0);
    expect((await ingest(t.gw, office, payload)).status).toBe(202);
    await secretButton.click();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#source-secret").textContent()).toMatch(/^sk_[\w-]{43}$/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("source-secret-panel");
    const generated = (await page.locator("#source-secret").textContent())!;
    expect((await ingest(t.gw, office, payload)).status).toBe(401);
    expect((await ingest(t.gw, { id: office.id, secret: generated }, payload)).status).toBe(202);
    // Or the one the PBX generated, pasted (Wildix, VoIPcloud); one the API refuses is said under the input.
    await secretButton.click();
    await secretInput.fill("short");
    await page.keyboard.press("Enter");
    await expect.poll(() => secretInput.getAttribute("aria-invalid")).toBe("true");
    expect(await secretInput.evaluate((el) => el === document.activeElement)).toBe(true);
    await secretInput.fill("the-pbx-generated-secret-0123");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#source-secret").textContent()).toBe("the-pbx-generated-secret-0123");
    const secret = "the-pbx-generated-secret-0123";
    expect((await ingest(t.gw, { id: office.id, secret: generated }, payload)).status).toBe(401);
    expect((await ingest(t.gw, { id: office.id, secret }, payload)).status).toBe(202);
    // It stays on show through another action (it may not be copied yet), until its source is deleted.
    await page.getByRole("button", { name: "Deactivate Warehouse" }).click();
    await expect.poll(focusedLabel).toBe("Activate Warehouse");
    expect(await page.locator("#source-secret").textContent()).toBe(secret);

    // Delete: asked first; then focus goes to the heading.
    page.once("dialog", (dialog) => dialog.accept());
    await page.getByRole("button", { name: "Delete Head office" }).click();
    await expect.poll(async () => (await t.gw.api("GET", `/api/sources/${office.id}`)).status).toBe(404);
    await expect.poll(() => page.locator("#sources tbody tr").count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Sources");
    expect(await page.locator("#source-secret").count()).toBe(0);

    // Deleted behind the console's back: the failure is said, and the list reloaded without it.
    await t.gw.api("DELETE", `/api/sources/${other.id}`);
    await page.getByRole("button", { name: "Activate Warehouse" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain(`Warehouse: source ${other.id} not found`);
    expect(await page.locator(".empty").textContent()).toContain("No source yet");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Sources");
  });

  it("lists webhooks with their columns, toggles one and deletes one after confirmation", async () => {
    const long = `${t.receiver.url}/a/very/long/path/${"segment/".repeat(20)}?with=query&and=more`;
    const crm = await createWebhook(t.gw, { name: "CRM call log", url: long, events: ["call.end", "call.start"] });
    await createWebhook(t.gw, { name: "Slack", url: `${t.receiver.url}/slack`, method: "POST" });
    const salesforce = await createWebhook(t.gw, {
      name: "Salesforce",
      preset: "salesforce",
      preset_config: { instance_url: "https://acme.my.salesforce.com", client_id: "id", client_secret: "a-client-secret" },
    });
    await signIn();
    const row = page.locator(`tr[data-id="${crm.id}"]`);
    await expect.poll(() => row.textContent()).toContain("CRM call log");
    expect(await row.textContent()).toContain("call.end, call.start");
    expect(await row.textContent()).toContain("POST JSON");
    // A preset's row shows its URL with the preset's settings put in.
    await expect.poll(() => page.locator(`tr[data-id="${salesforce.id}"] td.mono`).textContent()).toBe("https://acme.my.salesforce.com/services/data/v66.0/sobjects/Task");
    // A long URL wraps inside its column instead of widening the table past the screen.
    const table = (await page.locator("#webhooks").boundingBox())!;
    expect(table.x + table.width).toBeLessThanOrEqual(VIEWPORT.width);
    const deleteButton = (await row.getByRole("button", { name: "Delete" }).boundingBox())!;
    expect(deleteButton.x + deleteButton.width).toBeLessThanOrEqual(table.x + table.width);
    await expectNoHorizontalOverflow();
    await page.screenshot({ path: `${SCREENSHOTS}webhooks.png`, fullPage: true });

    // Each action names its webhook; after it, focus stays on the button, whose label says what it does next.
    await page.getByRole("button", { name: "Deactivate CRM call log", exact: true }).click();
    await expect.poll(async () => (await t.gw.api("GET", `/api/webhooks/${crm.id}`)).body.enabled).toBe(false);
    await expect.poll(() => page.locator(`tr[data-id="${crm.id}"]`).textContent()).toContain("inactive");
    await expectBadgesWhole("#webhooks", 3);
    await expectWordsWhole("#webhooks", 3);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Activate CRM call log");

    page.once("dialog", (dialog) => dialog.accept());
    await page.getByRole("button", { name: "Delete CRM call log", exact: true }).click();
    await expect.poll(async () => (await t.gw.api("GET", `/api/webhooks/${crm.id}`)).status).toBe(404);
    await expect.poll(() => page.locator("#webhooks tbody tr").count()).toBe(2);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Webhooks");
    await t.gw.api("DELETE", `/api/webhooks/${salesforce.id}`);

    // Deleted behind the console's back: the failure is shown, and the list reloaded without it.
    const slack = (await t.gw.api("GET", "/api/webhooks")).body.data[0];
    await t.gw.api("DELETE", `/api/webhooks/${slack.id}`);
    await page.getByRole("button", { name: "Deactivate Slack", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain(`Slack: webhook ${slack.id} not found`);
    expect(await page.locator(".empty").textContent()).toContain("No webhook yet");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Webhooks");
  });

  it("says why a webhook is inactive: who turned it off beside its badge, and on its edit page when, with the delivery a 410 came to", async () => {
    t.receiver.handler = (request) => ({ status: request.path === "/gone" ? 410 : 200 });
    const source = await createSource(t.gw);
    const gone = await createWebhook(t.gw, { name: "Moved CRM", url: `${t.receiver.url}/gone`, retries: 0 });
    const paused = await createWebhook(t.gw, { name: "Paused", url: `${t.receiver.url}/paused`, enabled: false });
    const on = await createWebhook(t.gw, { name: "On", url: `${t.receiver.url}/on` });
    expect((await ingest(t.gw, source, { type: "call.end", uniqueid: "gone.1", direction: "inbound" })).status).toBe(202);
    await t.gw.settle();
    const { disabled } = (await t.gw.api("GET", `/api/webhooks/${gone.id}`)).body;
    expect(disabled).toMatchObject({ reason: "gone", status_code: 410 });

    await signIn();
    const status = (id: string) => page.locator(`#webhooks tr[data-id="${id}"] td`).nth(1);
    await expect.poll(() => status(gone.id).textContent()).toBe("inactive410 Gone");
    expect(await status(paused.id).textContent()).toBe("inactiveby hand");
    expect(await status(on.id).textContent()).toBe("active");
    await expectBadgesWhole("#webhooks", 3);

    await page.getByRole("link", { name: "Edit Moved CRM" }).click();
    const notice = page.locator("#webhook-disabled");
    const since = await page.evaluate((iso) => new Date(iso).toLocaleString(), disabled.at);
    await expect.poll(() => notice.textContent()).toBe(
      `Inactive since ${since}: its receiver answered 410 Gone to delivery ${disabled.delivery_id}, so the gateway turned it off. Once the receiver takes requests again, tick Active and save.`,
    );
    await notice.getByRole("link", { name: disabled.delivery_id }).click();
    await expect.poll(() => page.locator("h1 .badge").textContent()).toBe("failed");
    expect(await page.locator("#attempts tbody").textContent()).toContain("410");

    // Turned on again from its edit page: the sentence goes, and the rule forgets why it was off.
    await page.goBack();
    await page.getByLabel("Active: deliver matching events").check();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => notice.isHidden()).toBe(true);
    expect((await t.gw.api("GET", `/api/webhooks/${gone.id}`)).body).toMatchObject({ enabled: true, disabled: null });
    await page.goto(`${t.gw.url}/#/webhooks/${paused.id}`);
    const pausedSince = await page.evaluate((iso) => new Date(iso).toLocaleString(), paused.disabled.at);
    await expect.poll(() => notice.textContent()).toBe(`Inactive since ${pausedSince}: turned off by hand.`);
    await page.goto(`${t.gw.url}/#/webhooks/${on.id}`);
    await page.getByRole("heading", { name: "Edit “On”" }).waitFor();
    expect(await notice.isHidden()).toBe(true);
  });

  it("retries a webhook's failed deliveries from its page, once it is active again, saying how many", async () => {
    // Down (503) for two calls, then gone (410) for the third, which turns the rule off; back afterwards.
    t.receiver.replyWith({ status: 503 }, { status: 503 }, { status: 410 });
    const source = await createSource(t.gw);
    const crm = await createWebhook(t.gw, { name: "CRM", url: `${t.receiver.url}/crm`, retries: 0 });
    for (let i = 0; i < 3; i++) expect((await ingest(t.gw, source, { type: "call.end", uniqueid: `down.${i}`, direction: "inbound" })).status).toBe(202);
    await t.gw.settle();
    const { disabled } = (await t.gw.api("GET", `/api/webhooks/${crm.id}`)).body;
    expect(disabled).toMatchObject({ reason: "gone" });
    const fine = await createWebhook(t.gw, { name: "Fine", url: `${t.receiver.url}/fine` });

    await signIn();
    await page.goto(`${t.gw.url}/#/webhooks/${fine.id}`);
    await page.getByRole("heading", { name: "Edit “Fine”" }).waitFor();
    expect(await page.locator("#recover").count()).toBe(0);

    await page.goto(`${t.gw.url}/#/webhooks/${crm.id}`);
    const panel = page.getByRole("form", { name: "Failed deliveries" });
    await panel.waitFor();
    // From a day before the rule was turned off: what its disabling failed had been made before.
    const since = panel.getByLabel("Made since");
    const dayBefore = await page.evaluate((iso) => new Date(Date.parse(iso) - 24 * 3600_000), disabled.at);
    expect(new Date(await since.inputValue()).getTime()).toBe(Math.floor(new Date(dayBefore).getTime() / 60_000) * 60_000);
    const outcome = page.locator("#recover-outcome");
    await panel.getByRole("button", { name: "Retry failed deliveries" }).click();
    await expect.poll(() => outcome.textContent()).toBe(`Webhook ${crm.id} is disabled: enable it first, once its receiver takes requests again`);
    expect(await outcome.getAttribute("class")).toBe("error");

    await page.getByLabel("Active: deliver matching events").check();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(async () => (await t.gw.api("GET", `/api/webhooks/${crm.id}`)).body.enabled).toBe(true);
    await panel.getByRole("button", { name: "Retry failed deliveries" }).click();
    await expect.poll(() => outcome.textContent()).toBe("3 failed deliveries retried.");
    await t.gw.settle();
    expect((await t.gw.api("GET", `/api/deliveries?webhook_id=${crm.id}&status=delivered`)).body.data).toHaveLength(3);
    expect(t.receiver.requests).toHaveLength(6);
    await expectNoHorizontalOverflow();
  });

  it("sends a webhook the events it missed from its page, once it is active again, saying how many", async () => {
    const source = await createSource(t.gw);
    const crm = await createWebhook(t.gw, { name: "CRM", url: `${t.receiver.url}/crm`, body_template: '{"call": "{{uniqueid}}"}', enabled: false });
    for (let i = 0; i < 3; i++) expect((await ingest(t.gw, source, { type: "call.end", uniqueid: `missed.${i}`, direction: "inbound" })).status).toBe(202);
    // One it does not take: never sent.
    expect((await ingest(t.gw, source, { type: "call.start", uniqueid: "started", direction: "inbound" })).status).toBe(202);
    await t.gw.settle();
    const { disabled } = (await t.gw.api("GET", `/api/webhooks/${crm.id}`)).body;

    await signIn();
    await page.goto(`${t.gw.url}/#/webhooks/${crm.id}`);
    const panel = page.getByRole("form", { name: "Missed events" });
    await panel.waitFor();
    // No failed delivery: only this panel, from a day before the rule was turned off.
    expect(await page.locator("#recover").count()).toBe(0);
    const since = panel.getByLabel("Received since");
    const dayBefore = await page.evaluate((iso) => new Date(Date.parse(iso) - 24 * 3600_000), disabled.at);
    expect(new Date(await since.inputValue()).getTime()).toBe(Math.floor(new Date(dayBefore).getTime() / 60_000) * 60_000);
    const outcome = page.locator("#replay-outcome");
    expect(await outcome.isHidden()).toBe(true);
    await panel.getByRole("button", { name: "Send missed events" }).click();
    await expect.poll(() => outcome.textContent()).toBe(`Webhook ${crm.id} is disabled: enable it first, once its receiver takes requests again`);
    expect(await outcome.getAttribute("class")).toBe("error");

    await page.getByLabel("Active: deliver matching events").check();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(async () => (await t.gw.api("GET", `/api/webhooks/${crm.id}`)).body.enabled).toBe(true);
    await panel.getByRole("button", { name: "Send missed events" }).click();
    await expect.poll(() => outcome.textContent()).toBe("3 missed events sent.");
    expect(await outcome.getAttribute("class")).toBe("");
    await t.gw.settle();
    expect(t.receiver.requests.map((r) => JSON.parse(r.body).call).sort()).toEqual(["missed.0", "missed.1", "missed.2"]);

    // Sent once: asked again, nothing is missing.
    await panel.getByRole("button", { name: "Send missed events" }).click();
    await expect.poll(() => outcome.textContent()).toBe("No missed events: each one it takes has a delivery already.");
    await t.gw.settle();
    expect(t.receiver.requests).toHaveLength(3);
    for (const width of [VIEWPORT.width, 800]) {
      await page.setViewportSize({ width, height: VIEWPORT.height });
      await expectNoHorizontalOverflow();
      // The date and the button stay side by side or wrap whole, inside the panel.
      const inside = await panel.evaluate((form) => [...form.querySelectorAll("input, button")].every((el) => el.getBoundingClientRect().right <= form.getBoundingClientRect().right));
      expect(inside, `${width} px`).toBe(true);
    }
    await page.setViewportSize(VIEWPORT);
  });

  it("creates a Salesforce webhook from the preset, previews it and delivers a test event", async () => {
    const salesforce = await new SalesforceStandIn().start();
    try {
      await signIn();
      await page.getByRole("link", { name: "New webhook" }).click();
      await page.getByLabel("Preset").selectOption("salesforce");
      // The preset's settings appear, and its rule fills the form.
      await page.getByLabel("My Domain URL").fill(salesforce.url);
      await page.getByLabel("Consumer key").fill(salesforce.clientId);
      await page.getByLabel("Consumer secret").fill(salesforce.clientSecret);
      expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Salesforce");
      expect(await page.getByLabel("Method").inputValue()).toBe("POST_JSON");
      expect(await page.getByRole("textbox", { name: "Body template" }).inputValue()).toContain('"TaskSubtype": "Call"');
      await expect.poll(previewLine).toBe(`POST ${salesforce.url}/services/data/v66.0/sobjects/Task`);
      // The preview is the exact body, with the preset's credentials masked.
      const body = JSON.parse((await page.locator("#preview-request pre").textContent())!);
      expect(body).toMatchObject({ Subject: "Inbound call from Jane Customer", CallType: "Inbound", CallDurationInSeconds: 328 });
      expect(await page.locator("#preview-request").textContent()).toContain("Bearer ****");
      expect(await page.locator("#preview-request").textContent()).not.toContain(salesforce.clientSecret);
      // Another sample event: the preview follows.
      await page.getByLabel("Event", { exact: true }).selectOption("sample:voipcloud");
      await expect.poll(async () => (await page.locator("#preview-request pre").textContent()) ?? "").not.toContain("Jane Customer");
      await expectNoHorizontalOverflow();
      await page.screenshot({ path: `${SCREENSHOTS}webhook-preset.png` });

      await page.getByRole("button", { name: "Create webhook" }).click();
      await page.getByRole("heading", { name: "Edit “Salesforce”" }).waitFor();
      await expect.poll(() => page.title()).toBe("Edit “Salesforce” · Call-event gateway");
      // Unsigned (the preset signs in its own way), it has no secret to show, but is said to be created all the same.
      expect(await page.locator("#webhook-created h2").textContent()).toBe("Webhook created");
      expect(await page.locator("#webhook-created").textContent()).toContain("Send test event");
      expect(await page.locator("#webhook-secret").count()).toBe(0);
      // Its preset is shown, not changeable.
      expect(await page.getByLabel("Preset").inputValue()).toBe("salesforce");
      expect(await page.getByLabel("Preset").isDisabled()).toBe(true);
      const { body: list } = await t.gw.api("GET", "/api/webhooks");
      expect(list.data).toHaveLength(1);
      expect(list.data[0]).toMatchObject({ preset: "salesforce", preset_config: { instance_url: salesforce.url, client_id: salesforce.clientId } });
      expect(list.data[0].preset_config.client_secret).toMatch(/^\*\*\*\*/);

      await page.getByRole("button", { name: "Send test event" }).click();
      await expect.poll(() => page.locator("h1 .badge").textContent(), { timeout: 10_000 }).toBe("delivered");
      expect(await page.locator("#attempts tbody tr").count()).toBe(1);
      expect(await page.locator("#attempts").textContent()).toContain("201");
      expect(salesforce.requestsTo("/services/data/v66.0/sobjects/Task")).toHaveLength(1);
      expect(JSON.parse(salesforce.requestsTo("/services/data/v66.0/sobjects/Task")[0].body)).toMatchObject({ Subject: "Inbound call from Jane Customer" });
    } finally {
      await salesforce.stop();
    }
  });

  it("keeps what was typed when the preset changes, and asks before replacing what the preset sets", async () => {
    await signIn();
    await page.getByRole("link", { name: "New webhook" }).click();
    const preset = page.getByLabel("Preset");
    // Untouched, the form follows the presets as the arrow keys go through them, without asking.
    await preset.focus();
    await page.keyboard.press("ArrowDown");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Salesforce");
    await page.keyboard.press("ArrowUp");
    expect(await page.getByLabel("URL", { exact: true }).inputValue()).toBe("");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("");

    await page.getByLabel("Name", { exact: true }).fill("My CRM");
    await page.getByLabel("URL", { exact: true }).fill(`${t.receiver.url}/mine`);
    await page.getByLabel("Delay (seconds)").fill("42");
    // Declined: nothing changes, the picker included.
    const questions: string[] = [];
    page.once("dialog", (dialog) => (questions.push(dialog.message()), dialog.dismiss()));
    await preset.selectOption("salesforce");
    await expect.poll(() => questions).toEqual(["The preset “Salesforce” replaces what you changed: URL. Replace it?"]);
    expect(await preset.inputValue()).toBe("");
    expect(await page.getByLabel("URL", { exact: true }).inputValue()).toBe(`${t.receiver.url}/mine`);
    // Accepted: the preset's URL, and what it does not set (the name, the delay) as typed.
    page.once("dialog", (dialog) => dialog.accept());
    await preset.selectOption("salesforce");
    await expect.poll(() => page.getByLabel("URL", { exact: true }).inputValue()).toContain("{{{config.instance_url}}}");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("My CRM");
    expect(await page.getByLabel("Delay (seconds)").inputValue()).toBe("42");
  });

  it("previews a draft only once it can be, and says when no event type is chosen", async () => {
    const logged: string[] = [];
    page.on("console", (message) => message.type() === "error" && logged.push(message.text()));
    await signIn();
    await page.getByRole("link", { name: "New webhook" }).click();
    await expect.poll(() => page.locator("#preview-missing").textContent()).toBe("Enter the URL to see the request this rule sends.");
    await page.getByLabel("Preset").selectOption("salesforce");
    await expect.poll(() => page.locator("#preview-missing").textContent()).toBe("Fill in My Domain URL, Consumer key, Consumer secret to see the request this rule sends.");
    await page.getByLabel("Preset").selectOption("");
    await page.getByLabel("URL", { exact: true }).fill(`${t.receiver.url}/calls`);
    await expect.poll(previewLine).toBe(`POST ${t.receiver.url}/calls`);
    await expect.poll(() => page.locator("#preview-match").textContent()).toBe("would be sent This event matches the rule.");
    // Nothing ticked: nothing would be sent, as saving would say.
    await page.getByLabel("call.end").uncheck();
    await expect.poll(() => page.locator("#preview-match").textContent()).toBe("would not be sent No event type is chosen: tick at least one under When.");
    // Left out, the event is said why: the field of the form that leaves it out.
    await page.getByLabel("call.start").check();
    await expect.poll(() => page.locator("#preview-match").textContent()).toBe("would not be sent This event's type, call.end, is not ticked under Events.");
    await page.getByLabel("call.end").check();
    await page.getByLabel("outbound").check();
    await expect.poll(() => page.locator("#preview-match").textContent()).toBe("would not be sent This call's type, inbound, is not ticked under Call types.");
    await page.getByLabel("outbound").uncheck();
    await page.getByLabel("Filter (optional)").fill("bill_duration > 600");
    await expect.poll(() => page.locator("#preview-match").textContent()).toBe("would not be sent The filter is not true for this event.");
    await page.getByLabel("Filter (optional)").fill("bill_duration > 60");
    await expect.poll(() => page.locator("#preview-match").textContent()).toBe("would be sent This event matches the rule.");
    // The gateway was asked nothing it had to refuse.
    expect(logged).toEqual([]);
  });

  it("asks the gateway less often while a draft stays broken, so that typing logs few refused previews", async () => {
    const logged: string[] = [];
    page.on("console", (message) => message.type() === "error" && logged.push(message.text()));
    await signIn();
    await page.getByRole("link", { name: "New webhook" }).click();
    await page.getByLabel("URL", { exact: true }).fill(`${t.receiver.url}/calls`);
    await expect.poll(previewLine).toBe(`POST ${t.receiver.url}/calls`);
    await page.getByRole("button", { name: "Add parameter" }).click();
    await page.keyboard.type("minutes");
    await page.locator("#params .pair-value").last().focus();
    // Typed at an unhurried pace, broken from the first "(" to the end.
    await page.keyboard.type("$round(bill_duration / 60", { delay: 200 });
    const rowError = page.locator("#params .pair").last().locator(".field-error");
    await expect.poll(() => rowError.textContent()).toContain('Expected ")"');
    // Leaving the field (a change event) with the same draft asks nothing again.
    await page.keyboard.press("Tab");
    await page.waitForTimeout(1000);
    const refusals = logged.filter((text) => text.includes("Failed to load resource"));
    expect(refusals.length).toBeLessThanOrEqual(2);
    // Fixed, the preview follows.
    await page.locator("#params .pair-value").last().press("End");
    await page.locator("#params .pair-value").last().press(")");
    await expect.poll(previewLine).toBe(`POST ${t.receiver.url}/calls`);
    await expect.poll(() => page.locator("#preview-request pre").textContent()).toBe('{"minutes":5}');
    expect(await rowError.textContent()).toBe("");
  });

  it("asks for a signing secret only when requests are signed, named apart from a preset's own", async () => {
    await signIn();
    await page.getByRole("link", { name: "New webhook" }).click();
    const secret = page.getByLabel("Webhook signing secret");
    await secret.waitFor();
    await page.getByLabel("Signing", { exact: true }).selectOption("none");
    expect(await secret.isVisible()).toBe(false);
    await page.getByLabel("Signing", { exact: true }).selectOption("hmac-hex");
    expect(await page.locator(".field", { has: secret }).locator(".hint").textContent()).toMatch(/^Any shared secret/);
    // VoIP Cloud signs in its own way (it replaces the signing chosen, after asking): its setting is the
    // only signing secret shown.
    page.once("dialog", (dialog) => dialog.accept());
    await page.getByLabel("Preset").selectOption("voipcloud");
    await expect.poll(() => page.getByLabel("Signing", { exact: true }).inputValue()).toBe("none");
    expect(await secret.isVisible()).toBe(false);
    const labels = await page.locator("label").allTextContents();
    expect(labels.filter((text) => /signing secret/i.test(text))).toEqual(["Signing secret (required)", "Webhook signing secret"]);
  });

  it("creates a custom GET webhook with a parameter map, shows errors where they are, and delivers a test event", async () => {
    await signIn();
    await page.getByRole("link", { name: "New webhook" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Legacy CRM");
    await page.getByLabel("Method").selectOption("GET");
    await page.getByLabel("URL", { exact: true }).fill(`${t.receiver.url}/crm/call`);
    // The canonical fields are offered to expressions.
    const offered = await page.locator("#canonical-fields option").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual(expect.arrayContaining(["src", "dst", "bill_duration", "agent.extension", "hangup_cause"]));
    await page.getByRole("button", { name: "Add parameter" }).click();
    await page.keyboard.type("phone");
    await page.locator("#params .pair-value").last().fill("src");
    await expect.poll(previewLine).toBe(`GET ${t.receiver.url}/crm/call?phone=%2B15551234567`);

    // A broken expression: the message appears under its row and in the preview.
    await page.getByRole("button", { name: "Add parameter" }).click();
    await page.locator("#params .pair-name").last().fill("minutes");
    await page.locator("#params .pair-value").last().fill("$round(bill_duration / 60");
    await expect.poll(() => page.locator("#params .pair").last().locator(".field-error").textContent()).toContain('Expected ")"');
    expect(await page.locator("#preview-error").textContent()).toContain("params.minutes");
    expect(await page.locator("#params .pair-value").last().getAttribute("aria-invalid")).toBe("true");
    await page.screenshot({ path: `${SCREENSHOTS}webhook-error.png` });

    await page.locator("#params .pair-value").last().fill("$round(bill_duration / 60)");
    await expect.poll(previewLine).toBe(`GET ${t.receiver.url}/crm/call?phone=%2B15551234567&minutes=5`);
    expect(await page.locator("#params .field-error").allTextContents()).toEqual(["", "", ""]);
    await page.getByLabel("Event", { exact: true }).selectOption("sample:wildix");
    await expect.poll(previewLine).toMatch(/\?phone=%2B15551234567&minutes=0$/);
    await page.screenshot({ path: `${SCREENSHOTS}webhook-custom.png` });

    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByRole("heading", { name: "Edit “Legacy CRM”" }).waitFor();
    // The generated signing secret is shown once, on the page after creation.
    expect(await page.locator("#webhook-secret").textContent()).toMatch(/^whsec_/);
    const { body: list } = await t.gw.api("GET", "/api/webhooks");
    expect(list.data[0]).toMatchObject({ method: "GET", params: { phone: "src", minutes: "$round(bill_duration / 60)" }, body_template: null });

    // The test sends the event chosen for the preview.
    await page.getByLabel("Event", { exact: true }).selectOption("sample:wildix");
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect.poll(() => page.locator("h1 .badge").textContent(), { timeout: 10_000 }).toBe("delivered");
    expect(t.receiver.requests).toHaveLength(1);
    expect(t.receiver.requests[0].method).toBe("GET");
    expect(Object.fromEntries(t.receiver.requests[0].query)).toEqual({ phone: "+15551234567", minutes: "0" });
    expect(await page.locator("#delivery-request .request-line").textContent()).toBe(`GET ${t.receiver.url}/crm/call?phone=%2B15551234567&minutes=0`);
    // The stored request lacks what each attempt adds, which the preview showed: the page says so.
    expect(await page.locator("#delivery-request").locator("xpath=preceding-sibling::p[1]").textContent()).toContain("Each attempt adds webhook-id, the signature headers");
    const attempt = page.locator("#attempts tbody tr");
    expect(await attempt.count()).toBe(1);
    expect(await attempt.textContent()).toContain("200");
    expect(await attempt.textContent()).toContain("ok");
    expect(await page.locator("dl.facts").textContent()).toContain("Legacy CRM");
    await expectNoHorizontalOverflow();
    await page.screenshot({ path: `${SCREENSHOTS}delivery.png`, fullPage: true });
  });

  it("shows a template's render error under the template, and goes to its line", async () => {
    await signIn();
    await page.getByRole("link", { name: "New webhook" }).click();
    await page.getByLabel("URL", { exact: true }).fill(`${t.receiver.url}/body`);
    await page.getByRole("radio", { name: "Body template (Handlebars)" }).check();
    const template = page.getByRole("textbox", { name: "Body template" });
    await template.fill('{\n  "from": "{{src}}",\n  "agent": "{{shout agent.name}}"\n}');
    const error = page.locator(".field", { has: template }).locator(".field-error");
    await expect.poll(() => error.textContent()).toContain('line 3, column 13: Missing helper: "shout"');
    expect(await page.locator("#preview-error").textContent()).toContain("body_template");
    await error.getByRole("button", { name: "Go to line 3" }).click();
    const selected = await template.evaluate((el: HTMLTextAreaElement) => el.value.slice(el.selectionStart, el.selectionEnd));
    expect(selected).toBe('{{shout agent.name}}"');
    // Fixed, the preview shows the body exactly as it will be sent.
    await template.fill('{\n  "from": "{{src}}",\n  "agent": "{{upper agent.name}}"\n}');
    await expect.poll(() => page.locator("#preview-request pre").textContent()).toBe('{\n  "from": "+15551234567",\n  "agent": "ALEX AGENT"\n}');
    expect(await error.textContent()).toBe("");
    expect(await page.locator("#preview-warnings").textContent()).toBe("");

    // A value left unquoted: the request still renders, with a polite warning that it is not JSON.
    await template.fill('{"from": {{src}} }');
    const warnings = page.locator("#preview-warnings");
    await expect.poll(() => warnings.textContent()).toContain("Sent all the same, but the receiver may refuse it:The body is not valid JSON");
    expect(await warnings.getAttribute("role")).toBe("status");
    expect(await page.locator("#preview-request pre").textContent()).toBe('{"from": +15551234567 }');
    expect(await page.locator("#preview-match").textContent()).toContain("would be sent");
    expect(await error.textContent()).toBe("");
    await template.fill('{"from": "{{src}}"}');
    await expect.poll(() => warnings.textContent()).toBe("");
  });

  it("shows the API's validation errors on the fields when saving, and keeps masked secrets on edit", async () => {
    await signIn();
    await page.getByRole("link", { name: "New webhook" }).click();
    await page.getByLabel("call.end").uncheck();
    await page.getByRole("button", { name: "Create webhook" }).click();
    await expect.poll(() => page.locator("#form-error").textContent()).toContain("Some fields need attention");
    const errorOf = (label: string) => page.getByLabel(label, { exact: true }).evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent);
    expect(await errorOf("Name")).toBeTruthy();
    expect(await errorOf("URL")).toBeTruthy();
    expect(await page.getByRole("group", { name: "Events", exact: true }).locator(".field-error").textContent()).toContain("must have at least one item");
    // Focus lands on the first field in error, for keyboard users.
    expect(await page.evaluate(() => document.activeElement?.closest(".field")?.querySelector("label")?.textContent)).toBe("Name");
    expect((await t.gw.api("GET", "/api/webhooks")).body.data).toEqual([]);

    const webhook = await createWebhook(t.gw, {
      name: "Signed",
      url: `${t.receiver.url}/signed`,
      headers: { "X-Api-Key": "key-0123456789abcdef" },
      signing: "hmac-hex",
      secret: "a-shared-secret-of-some-length",
    });
    await page.goto(`${t.gw.url}/#/webhooks/${webhook.id}`);
    await page.getByRole("heading", { name: "Edit “Signed”" }).waitFor();
    expect(await page.getByLabel("Webhook signing secret").inputValue()).toBe("****ngth");
    expect(await page.locator("#headers .pair-value").inputValue()).toBe("****cdef");
    await page.getByLabel("Retries").fill("7");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(async () => (await t.gw.api("GET", `/api/webhooks/${webhook.id}`)).body.retries).toBe(7);
    // The masked values sent back kept the stored secrets: the receiver sees the real ones.
    await t.gw.api("POST", `/api/webhooks/${webhook.id}/test`);
    await t.receiver.waitFor(1);
    expect(t.receiver.requests[0].headers["x-api-key"]).toBe("key-0123456789abcdef");
  });

  it("creates an AWS SQS webhook, previews its message and sends a test event into local SQS", async () => {
    const sqs = await new LocalSqs().start();
    try {
      const queueUrl = await sqs.createQueue("console-calls.fifo");
      await signIn();
      await page.getByRole("link", { name: "New webhook" }).click();
      await page.getByLabel("Name", { exact: true }).fill("Back office queue");
      await page.getByLabel("Transport").selectOption("sqs");
      // What an SQS message has not: a method, headers, a content type.
      expect(await page.getByLabel("Method").isVisible()).toBe(false);
      expect(await page.locator("#headers").isVisible()).toBe(false);
      await page.getByLabel("Queue URL").fill(queueUrl);
      await page.getByLabel("Access key ID").fill(SQS_CREDENTIALS.accessKeyId);
      await page.getByLabel("Secret access key").fill(SQS_CREDENTIALS.secretAccessKey);
      // A queue that is not on AWS does not show its region: the API says so under the field.
      await page.getByRole("button", { name: "Create webhook" }).click();
      const regionError = () => page.getByLabel("Region").evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent);
      await expect.poll(regionError).toContain("give the queue's region");
      await page.getByLabel("Region").fill("eu-west-1");
      await expect.poll(regionError).toBeFalsy();
      await page.getByLabel("Signing", { exact: true }).selectOption("hmac-hex");
      await page.getByRole("button", { name: "Add parameter" }).click();
      await page.keyboard.type("caller");
      await page.locator("#params .pair-value").last().fill("src");
      await expect.poll(previewLine).toBe(`SQS SendMessage ${queueUrl}`);
      await expect.poll(() => page.locator("#preview-request pre").textContent()).toBe('{"caller":"+15551234567"}');
      // A FIFO queue: the call id groups the messages, the delivery id deduplicates them.
      const facts = await page.locator("#preview-request dl.facts").textContent();
      expect(facts).toContain("MessageGroupId10000000.1000");
      expect(facts).toContain("MessageDeduplicationIddlv_preview");
      expect(await page.locator("#preview-request table").textContent()).toMatch(/X-SIGNATURE\*{4}[0-9a-f]{4}/);
      await page.getByLabel("Transport").evaluate((el) => el.closest("section")?.scrollIntoView());
      await page.screenshot({ path: `${SCREENSHOTS}webhook-sqs.png` });

      await page.getByRole("button", { name: "Create webhook" }).click();
      await page.getByRole("heading", { name: "Edit “Back office queue”" }).waitFor();
      const [rule] = (await t.gw.api("GET", "/api/webhooks")).body.data;
      expect(rule).toMatchObject({ transport: "sqs", url: queueUrl, sqs: { region: "eu-west-1", access_key_id: SQS_CREDENTIALS.accessKeyId, secret_access_key: "****EKEY" } });
      expect(await page.getByLabel("Secret access key").inputValue()).toBe("****EKEY");

      // Saved unchanged, the masked secret is left out of the PATCH.
      const patches: string[] = [];
      page.on("request", (request) => request.method() === "PATCH" && patches.push(request.postData() ?? ""));
      await page.getByLabel("Retries").fill("5");
      await page.getByRole("button", { name: "Save changes" }).click();
      await expect.poll(async () => (await t.gw.api("GET", `/api/webhooks/${rule.id}`)).body.retries).toBe(5);
      expect(JSON.parse(patches[0]).sqs).toEqual({ region: "eu-west-1", access_key_id: SQS_CREDENTIALS.accessKeyId, message_group_id: null });

      await page.getByRole("button", { name: "Send test event" }).click();
      await expect.poll(() => page.locator("h1 .badge").textContent(), { timeout: 10_000 }).toBe("delivered");
      expect(await page.locator("#delivery-request .request-line").textContent()).toBe(`SQS SendMessage ${queueUrl}`);
      const attempt = page.locator("#attempts tbody tr");
      expect(await attempt.count()).toBe(1);
      expect(await attempt.textContent()).toContain("MessageId");
      const [message, ...more] = await sqs.receive(queueUrl);
      expect(more).toEqual([]);
      expect(message.Body).toBe('{"caller":"+15551234567"}');
      expect(message.Attributes?.MessageGroupId).toBe("10000000.1000");
    } finally {
      await sqs.stop();
    }
  });

  it("filters the delivery log, shows attempts and retries a failed delivery", async () => {
    const failing = await createWebhook(t.gw, { name: "Flaky CRM", url: `${t.receiver.url}/flaky`, retries: 0 });
    const other = await createWebhook(t.gw, { name: "Other", url: `${t.receiver.url}/other` });
    t.receiver.replyWith({ status: 500, body: "database is down" });
    const failed = (await t.gw.api("POST", `/api/webhooks/${failing.id}/test`)).body;
    await t.gw.settle();
    await t.gw.api("POST", `/api/webhooks/${other.id}/test`);
    await t.gw.settle();

    await signIn();
    await page.getByRole("link", { name: "Deliveries", exact: true }).click();
    await expect.poll(() => page.locator("#deliveries tbody tr").count()).toBe(2);
    await expectBadgesWhole("#deliveries", 2);
    await expectWordsWhole("#deliveries", 2);
    await page.getByLabel("Webhook").selectOption(failing.id);
    await expect.poll(() => page.locator("#deliveries tbody tr").count()).toBe(1);
    expect(page.url()).toContain(`webhook_id=${failing.id}`);
    // The arrow keys go through a filter's options: each one applies in place, focus stays on the filter.
    await page.getByLabel("Status").focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
    await expect.poll(() => page.locator(".empty").textContent()).toBe("No delivery matches.");
    expect(await page.getByLabel("Status").inputValue()).toBe("delivered");
    await page.keyboard.press("ArrowDown");
    expect(await page.getByLabel("Status").inputValue()).toBe("failed");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("filter-status");
    await expect.poll(() => page.getByRole("status").first().textContent()).toBe("1 delivery");
    expect(page.url()).toContain("status=failed");
    const row = page.locator(`#deliveries tr[data-id="${failed.id}"]`);
    await expect.poll(() => row.textContent()).toContain("HTTP 500");
    await page.screenshot({ path: `${SCREENSHOTS}deliveries.png`, fullPage: true });

    await row.getByRole("link").first().click();
    await expect.poll(() => page.locator("h1 .badge").textContent()).toBe("failed");
    expect(await page.locator("#attempts tbody").textContent()).toContain("database is down");
    await expectNoHorizontalOverflow();
    await page.getByRole("button", { name: "Retry now" }).click();
    await expect.poll(() => page.locator("h1 .badge").textContent(), { timeout: 10_000 }).toBe("delivered");
    expect(await page.locator("#attempts tbody tr").count()).toBe(2);
    await expectWordsWhole("#attempts", 2);
    expect(t.receiver.requests.filter((r) => r.path === "/flaky")).toHaveLength(2);
  });

  it("refreshes a delivery that waits for its next attempt without moving focus or clearing a selection", async () => {
    const webhook = await createWebhook(t.gw, { name: "Down CRM", url: `${t.receiver.url}/down`, retries: 3 });
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "3600" }, body: "down for maintenance" });
    const delivery = (await t.gw.api("POST", `/api/webhooks/${webhook.id}/test`)).body;
    await expect.poll(async () => (await t.gw.api("GET", `/api/deliveries/${delivery.id}`)).body.status).toBe("pending");
    const reads: string[] = [];
    page.on("request", (request) => request.url().includes("/api/") && reads.push(request.url()));
    await signIn();
    await page.goto(`${t.gw.url}/#/deliveries/${delivery.id}`);
    await expect.poll(() => page.locator("h1 .badge").textContent()).toBe("pending");
    expect(await page.locator("#attempts").textContent()).toContain("down for maintenance");
    const link = page.locator("dl.facts").getByRole("link", { name: "Down CRM" });
    await link.focus();
    await page.locator("#attempts pre").selectText();
    reads.length = 0;
    await page.waitForTimeout(2500);
    // An attempt an hour away: not looked at every second, and what was there is still there.
    expect(reads).toEqual([]);
    expect(await page.evaluate(() => document.getSelection()?.toString())).toBe("down for maintenance");
    expect(await link.evaluate((el) => el === document.activeElement)).toBe(true);

    // The receiver is fixed: "Retry now" sends it without waiting the hour, and focus stays on the button.
    const retry = page.getByRole("button", { name: "Retry now" });
    await retry.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("h1 .badge").textContent(), { timeout: 10_000 }).toBe("delivered");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Send again");
    expect(await page.locator("#attempts tbody tr").count()).toBe(2);
    expect(t.receiver.requests).toHaveLength(2);
  });

  it("refreshes an unfinished delivery in the list in place, and stops once none is unfinished", async () => {
    const webhook = await createWebhook(t.gw, { name: "Down CRM", url: `${t.receiver.url}/down`, retries: 3 });
    t.receiver.replyWith({ status: 503, headers: { "retry-after": "3600" }, body: "down for maintenance" });
    const delivery = (await t.gw.api("POST", `/api/webhooks/${webhook.id}/test`)).body;
    await expect.poll(async () => (await t.gw.api("GET", `/api/deliveries/${delivery.id}`)).body.status).toBe("pending");
    await signIn();
    await page.getByRole("link", { name: "Deliveries", exact: true }).click();
    const row = page.locator(`#deliveries tr[data-id="${delivery.id}"]`);
    await expect.poll(() => row.locator(".badge").textContent()).toBe("pending");
    // Focus on the row's link, which the refresh must keep (the same element, still focused).
    const link = row.getByRole("link").first();
    await link.focus();
    await link.evaluate((el) => ((window as unknown as { kept: Element }).kept = el));

    // Sent meanwhile (the receiver fixed): the row follows without a reload.
    await t.gw.api("POST", `/api/deliveries/${delivery.id}/retry`);
    await expect.poll(() => row.locator(".badge").textContent(), { timeout: 10_000 }).toBe("delivered");
    expect(await row.textContent()).toContain("HTTP 200");
    expect(await link.evaluate((el) => el === document.activeElement && el === (window as unknown as { kept: Element }).kept)).toBe(true);
    expect(await page.getByRole("status").first().textContent()).toBe("1 delivery");

    // Nothing unfinished: the list is not read again.
    const reads: string[] = [];
    page.on("request", (request) => request.url().includes("/api/") && reads.push(request.url()));
    await page.waitForTimeout(4000);
    expect(reads).toEqual([]);
  });

  it("lists events and shows one in its canonical and raw forms", async () => {
    const source = await createSource(t.gw, "Call centre", "voipappz");
    const payload = projectJson<Record<string, unknown>>("test/fixtures/voipappz/call-hangup.json");
    const accepted = await ingest(t.gw, source, payload);
    expect(accepted.status).toBe(202);
    await signIn();
    await page.getByRole("link", { name: "Events" }).click();
    const row = page.locator(`#events tr[data-id="${accepted.body.event_id}"]`);
    await expect.poll(() => row.textContent()).toContain("call.end");
    await expectWordsWhole("#events", 1);
    // The type filter follows the arrow keys without losing focus.
    await page.getByLabel("Type").focus();
    await page.keyboard.press("ArrowDown");
    expect(await page.getByLabel("Type").inputValue()).toBe("call.start");
    await expect.poll(() => page.locator(".empty").textContent()).toBe("No event of this type.");
    for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowDown");
    expect(await page.getByLabel("Type").inputValue()).toBe("call.end");
    await expect.poll(() => row.textContent()).toContain("call.end");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("filter-type");
    await row.getByRole("link").click();
    const json = page.locator("#event-json");
    await expect.poll(async () => JSON.parse((await json.textContent()) ?? "{}").event_id).toBe(accepted.body.event_id);
    expect(JSON.parse((await json.textContent())!)).toMatchObject({ type: "call.end", source: "voipappz" });
    // The tabs work with the keyboard: arrow right shows the payload as the PBX posted it.
    await page.getByRole("tab", { name: "Canonical" }).focus();
    await page.keyboard.press("ArrowRight");
    expect(JSON.parse((await json.textContent())!)).toEqual(payload);
    expect(await page.getByRole("tab", { name: "Raw payload" }).getAttribute("aria-selected")).toBe("true");
    await expectNoHorizontalOverflow();
    await page.screenshot({ path: `${SCREENSHOTS}event.png`, fullPage: true });
  });

  it("says on an event's page why no webhook took it, and what leaves it out of the others, as the webhooks are now", async () => {
    const source = await createSource(t.gw);
    const starts = await createWebhook(t.gw, { name: "Starts only", url: `${t.receiver.url}/s`, events: ["call.start"] });
    const paused = await createWebhook(t.gw, { name: "Paused", url: `${t.receiver.url}/p`, enabled: false });
    const outbound = await createWebhook(t.gw, { name: "Outbound only", url: `${t.receiver.url}/o`, call_types: ["outbound"] });
    t.gw.clock.advance(1_000);
    const missed = (await ingest(t.gw, source, { type: "call.end", uniqueid: "why.1", direction: "inbound" })).body;
    expect(missed.deliveries).toBe(0);

    await signIn();
    await page.goto(`${t.gw.url}/#/events/${missed.event_id}`);
    const why = page.locator("#rules-without-delivery");
    await expect.poll(() => why.locator("h3").textContent()).toBe("Why no webhook took it");
    expect(await page.getByText("No delivery: no webhook took this event.").isVisible()).toBe(true);
    expect(await why.locator(".hint").textContent()).toBe("Checked now: none of these webhooks has changed since this event came in, so this is why each made no delivery.");
    expect(await why.locator("li").allTextContents()).toEqual([
      "Paused: it is inactive (it would take this event otherwise).",
      "Outbound only: inbound is not ticked under its Call types.",
      "Starts only: call.end is not ticked under its Events.",
    ]);
    expect(await why.getByRole("link", { name: "Starts only" }).getAttribute("href")).toBe(`#/webhooks/${starts.id}`);
    // The canonical view shows the event itself, not the gateway's account of the rules.
    expect(JSON.parse((await page.locator("#event-json").textContent())!)).not.toHaveProperty("rules_without_delivery");
    await expectNoHorizontalOverflow();

    // Under a delivery, the others: a rule turned on since the event came in would take it now, and says so.
    await createWebhook(t.gw, { name: "Takes it", url: `${t.receiver.url}/t` });
    t.gw.clock.advance(1_000);
    const taken = (await ingest(t.gw, source, { type: "call.end", uniqueid: "why.2", direction: "inbound" })).body;
    await t.gw.settle();
    t.gw.clock.advance(1_000);
    await t.gw.api("PATCH", `/api/webhooks/${paused.id}`, { enabled: true });
    const later = await createWebhook(t.gw, { name: "Outbound, made later", url: `${t.receiver.url}/l`, call_types: ["outbound"] });
    await page.goto(`${t.gw.url}/#/events/${taken.event_id}`);
    await expect.poll(() => why.locator("h3").textContent()).toBe("The other webhooks");
    expect(await page.locator("#event-deliveries tbody tr").count()).toBe(1);
    await expectWordsWhole("#event-deliveries", 1);
    expect(await why.locator(".hint").textContent()).toBe("Checked now, against the webhooks as they are now; those made or changed since this event came in say so.");
    expect(await why.locator(`li[data-id="${paused.id}"]`).textContent()).toBe(
      "Paused: it would take this event now (changed after this event came in); Send missed events on its page sends it.",
    );
    expect(await why.locator(`li[data-id="${later.id}"]`).textContent()).toBe("Outbound, made later: inbound is not ticked under its Call types (made after this event came in).");
    expect(await why.locator(`li[data-id="${outbound.id}"]`).textContent()).toBe("Outbound only: inbound is not ticked under its Call types.");
  });

  it("creates a webhook with the keyboard alone", async () => {
    await signIn();
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();
    // The focused element's name: its label's text for a form control, its text for a link or button.
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLInputElement | null;
        return el?.labels?.[0]?.textContent || el?.textContent;
      });
    /** Presses Tab until the focused element is `name`, failing if it never comes. */
    const tabTo = async (name: string, pressEnter = true) => {
      for (let i = 0; i < 60 && (await focused()) !== name; i++) await page.keyboard.press("Tab");
      expect(await focused()).toBe(name);
      if (pressEnter) await page.keyboard.press("Enter");
    };
    await tabTo("New webhook");
    await page.getByRole("heading", { name: "New webhook" }).waitFor();
    await tabTo("Name", false);
    await page.keyboard.type("Keyboard only");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Keyboard only");
    await tabTo("call.start", false);
    await page.keyboard.press("Space");
    await tabTo("Create webhook");
    await expect.poll(() => page.locator("#form-error").textContent()).toContain("Some fields need attention");
    // Focus went to the field in error (the URL): type it and submit with Enter.
    await page.keyboard.type(`${t.receiver.url}/keys`);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Edit “Keyboard only”" }).waitFor();
    const { body } = await t.gw.api("GET", "/api/webhooks");
    expect(body.data[0]).toMatchObject({ name: "Keyboard only", events: ["call.start", "call.end"] });
  });

  it("fits a phone's width: the header wraps and tables scroll in their own box", async () => {
    const phone = { width: 390, height: 844 };
    const hook = await createWebhook(t.gw, { name: "CRM call log", url: `${t.receiver.url}/a/rather/long/path/for/a/phone?with=query` });
    const delivery = (await t.gw.api("POST", `/api/webhooks/${hook.id}/test`)).body;
    await createSource(t.gw, "Office Wildix", "wildix");
    await t.gw.settle();
    await page.setViewportSize(phone);
    await signIn();
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();
    for (const [path, heading] of [
      ["webhooks", "Webhooks"],
      ["deliveries", "Deliveries"],
      ["events", "Events"],
      ["sources", "Sources"],
      ["webhooks/new", "New webhook"],
      [`deliveries/${delivery.id}`, `Delivery ${delivery.id} delivered`],
    ]) {
      await page.goto(`${t.gw.url}/#/${path}`);
      await page.getByRole("heading", { name: heading }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(phone.width);
      const signOut = (await page.getByRole("button", { name: "Sign out" }).boundingBox())!;
      expect(signOut.x + signOut.width, path).toBeLessThanOrEqual(phone.width);
    }
    // A table cell is not squeezed to a few letters a line.
    await page.goto(`${t.gw.url}/#/webhooks`);
    const name = (await page.locator("#webhooks tbody td").nth(2).boundingBox())!;
    expect(name.width).toBeGreaterThan(100);
    await page.screenshot({ path: `${SCREENSHOTS}phone-webhooks.png` });
  });

  it("offers exactly the domain's event types", async () => {
    await signIn();
    await page.goto(`${t.gw.url}/#/webhooks/new`);
    const boxes = page.locator('input[name="events"]');
    await expect.poll(() => boxes.count()).toBe(EVENT_TYPES.length);
    expect(await boxes.evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual([...EVENT_TYPES]);
  });
});

import { describe, expect, it } from "vitest";
import { consolePerTest } from "./support/console-page.js";
import { createSource, createWebhook, ingest } from "./support/gateway.js";

// The console after set-up: what an integrator does when a receiver starts refusing, or a customer asks about
// one call. The same browser, gateway and receiver as test/console.test.ts.

const session = consolePerTest();
const t = session.t;
const PHONE = { width: 390, height: 844 };

/** A CRM that takes only the key it has now; any other gets 401 and says why. */
function crmWithKey(key: string) {
  t.receiver.handler = (request) =>
    request.headers.authorization === `Bearer ${key}` ? { status: 200 } : { status: 401, body: '{"error": "invalid_key", "message": "API key rotated"}' };
}

/** A `datetime-local` input's value, in this browser's time zone, for `iso` moved by `shiftMs`. */
function localInputValue(iso: string, shiftMs: number): Promise<string> {
  return session.page.evaluate(
    ([at, shift]) => {
      const time = new Date(Date.parse(at) + shift);
      const two = (n: number) => String(n).padStart(2, "0");
      return `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())}T${two(time.getHours())}:${two(time.getMinutes())}`;
    },
    [iso, shiftMs] as const,
  );
}

describe("console, day two", () => {
  it("finds one call's whole story from its uniqueid (events, deliveries by webhook, attempts), then rotates the key on the failing webhook and retries", async () => {
    const { page } = session;
    const source = await createSource(t.gw, "Office PBX");
    const crm = await createWebhook(t.gw, { name: "CRM", url: `${t.receiver.url}/crm`, headers: { Authorization: "Bearer old-key" }, retries: 0 });
    await createWebhook(t.gw, { name: "Call log", url: `${t.receiver.url}/log`, headers: { Authorization: "Bearer new-key" }, retries: 0 });
    crmWithKey("new-key");
    const call = { uniqueid: "call-42", direction: "inbound", src: "+15551234567", dst: "+15557654321" };
    await ingest(t.gw, source, { ...call, type: "call.start", occurred_at: "2026-11-20T14:03:00Z" });
    const end = (await ingest(t.gw, source, { ...call, type: "call.end", occurred_at: "2026-11-20T14:08:40Z" })).body;
    await ingest(t.gw, source, { type: "call.end", uniqueid: "call-7", direction: "inbound" });
    await t.gw.settle();

    // The call's id, typed and Enter: its events only, focus kept on the field, the search in the address.
    await session.signIn();
    await page.getByRole("link", { name: "Events" }).click();
    await expect.poll(() => page.locator("#events tbody tr").count()).toBe(3);
    const field = page.getByLabel("Call id");
    await field.focus();
    await page.keyboard.type("call-42");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#events tbody tr").count()).toBe(2);
    expect(await page.locator("#events tbody td:nth-child(2)").allTextContents()).toEqual(["call.end", "call.start"]);
    expect(await page.getByRole("status").first().textContent()).toBe("2 events");
    expect(await field.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(page.url()).toContain("uniqueid=call-42");
    await field.fill("no-such-call");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".empty").textContent()).toBe("No event of the call no-such-call.");
    // Emptied: every call again.
    await field.fill("");
    await expect.poll(() => page.locator("#events tbody tr").count()).toBe(3);

    // The event names its call (linked to all its events) and each delivery by its webhook, with its result.
    await page.goto(`${t.gw.url}/#/events/${end.event_id}`);
    await expect.poll(() => page.locator("#event-call").textContent()).toBe("Call call-42 from Office PBX, +15551234567 → +15557654321: all its events");
    const rows = page.locator("#event-deliveries tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    const crmRow = rows.filter({ hasText: "CRM" });
    expect(await crmRow.locator("td").allTextContents()).toEqual([expect.any(String), "CRM", "failed", "1 / 1", "HTTP 401 (not retryable)", "Preview with this event"]);
    expect(await rows.filter({ hasText: "Call log" }).locator(".badge").textContent()).toBe("delivered");
    expect(await crmRow.getByRole("link", { name: "CRM", exact: true }).getAttribute("href")).toBe(`#/webhooks/${crm.id}`);
    await page.getByRole("link", { name: "all its events" }).click();
    await expect.poll(() => page.locator("#events tbody tr").count()).toBe(2);
    expect(page.url()).toContain(`source_id=${source.id}`);
    expect(await page.getByLabel("Source").inputValue()).toBe(source.id);
    expect(await page.getByLabel("Call id").inputValue()).toBe("call-42");

    // Its delivery's attempts say what the CRM answered; its webhook is one link away, to rotate the key.
    await page.goBack();
    await crmRow.getByRole("link").first().click();
    await expect.poll(() => page.locator("#attempts tbody").textContent()).toContain("API key rotated");
    await page.goBack();
    await crmRow.getByRole("link", { name: "CRM", exact: true }).click();
    await page.getByRole("heading", { name: "Edit “CRM”" }).waitFor();
    await page.getByRole("textbox", { name: "Value" }).fill("Bearer new-key");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator("#toast").textContent()).toBe("Saved “CRM”");
    // A time after the failures: nothing to retry, and how far back to go instead.
    const panel = page.getByRole("form", { name: "Failed deliveries" });
    const outcome = page.locator("#recover-outcome");
    const newest = (await t.gw.api("GET", `/api/deliveries?webhook_id=${crm.id}&status=failed&limit=1`)).body.data[0];
    await panel.getByLabel("Made since").fill(await localInputValue(newest.created_at, 3600_000));
    await panel.getByRole("button", { name: "Retry failed deliveries" }).click();
    const shown = await page.evaluate((iso) => new Date(iso).toLocaleString(), newest.created_at);
    await expect.poll(() => outcome.textContent()).toBe(`No failed delivery was made since then: the newest was made ${shown}. Pick a time before it.`);
    // From before the rule was made (the gateway's clock is the test's, not this browser's): both retried.
    await panel.getByLabel("Made since").fill(await localInputValue(crm.created_at, -3600_000));
    await panel.getByRole("button", { name: "Retry failed deliveries" }).click();
    await expect.poll(() => outcome.textContent()).toBe("2 failed deliveries retried.");
    await t.gw.settle();
    await panel.getByRole("button", { name: "Retry failed deliveries" }).click();
    await expect.poll(() => outcome.textContent()).toBe("No failed delivery is left to retry.");
    // Both failed deliveries of the CRM (this call's and call-7's) went again, with the new key.
    expect(t.receiver.requests.filter((r) => r.path === "/crm").map((r) => r.headers.authorization)).toEqual([
      "Bearer old-key",
      "Bearer old-key",
      "Bearer new-key",
      "Bearer new-key",
    ]);
  });

  it("previews the webhook with the very event a delivery failed on, though 20 newer ones came since, from the delivery and from the event", async () => {
    const { page } = session;
    const source = await createSource(t.gw, "Office PBX");
    // The CRM wants the caller under "caller"; the rule sends it as "from".
    t.receiver.handler = (request) => (JSON.parse(request.body).caller ? { status: 200 } : { status: 422, body: '{"error": "caller is required"}' });
    const crm = await createWebhook(t.gw, { name: "CRM", url: `${t.receiver.url}/crm`, body_template: '{"call": "{{uniqueid}}", "from": "{{src}}"}', retries: 0 });
    const failed = (await ingest(t.gw, source, { type: "call.end", uniqueid: "call-old", direction: "inbound", src: "+15550001111" })).body;
    await t.gw.settle();
    // Newer events (none the rule takes) push it out of the preview's 20 latest.
    t.gw.clock.advance(1_000);
    for (let i = 0; i < 20; i++) await ingest(t.gw, source, { type: "call.start", uniqueid: `call-new-${i}`, direction: "inbound" });
    const delivery = (await t.gw.api("GET", `/api/deliveries?webhook_id=${crm.id}`)).body.data[0];
    expect(delivery).toMatchObject({ event_id: failed.event_id, status: "failed" });

    const chooser = page.locator("#preview-event");
    const previewed = page.locator("#preview-request pre.body");
    /** The rule's page, opened on the failed event: chosen in its own group, focused, its rendering (`body`) and fields shown. */
    const expectPreviewOfFailed = async (body: string) => {
      await page.getByRole("heading", { name: "Edit “CRM”" }).waitFor();
      expect(new URL(page.url()).hash).toBe(`#/webhooks/${crm.id}?event=${failed.event_id}`);
      expect(await chooser.inputValue()).toBe(`event:${failed.event_id}`);
      expect(await chooser.locator("option:checked").evaluate((option) => (option.parentElement as HTMLOptGroupElement).label)).toBe("Linked event");
      expect(await chooser.evaluate((el) => el === document.activeElement)).toBe(true);
      await expect.poll(() => previewed.textContent()).toBe(body);
      expect(await page.locator("#preview-match").textContent()).toBe("would be sent This event matches the rule.");
      expect(JSON.parse((await page.locator("#preview-event-json").textContent())!)).toMatchObject({ event_id: failed.event_id, uniqueid: "call-old" });
    };

    // From the delivery's page.
    await session.signIn();
    await page.goto(`${t.gw.url}/#/deliveries/${delivery.id}`);
    await page.getByRole("link", { name: "Preview CRM with this event" }).click();
    await expectPreviewOfFailed('{"call": "call-old", "from": "+15550001111"}');
    // The fix shows at once on that event, and Send test event sends it.
    await page.getByRole("textbox", { name: "Body template" }).fill('{"call": "{{uniqueid}}", "caller": "{{src}}"}');
    await expect.poll(() => previewed.textContent()).toBe('{"call": "call-old", "caller": "+15550001111"}');
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator("#toast").textContent()).toBe("Saved “CRM”");
    await page.getByRole("button", { name: "Send test event" }).click();
    await page.getByRole("heading", { name: /^Delivery / }).waitFor();
    await t.gw.settle();
    // A copy of that event (a test has its own id), sent with the fix.
    expect((await t.gw.api("GET", `/api/deliveries/${new URL(page.url()).hash.split("/").at(-1)}`)).body.status).toBe("delivered");
    expect(t.receiver.requests.map((r) => r.body)).toEqual(['{"call": "call-old", "from": "+15550001111"}', '{"call": "call-old", "caller": "+15550001111"}']);

    // From the event's page, on its delivery's row.
    await page.goto(`${t.gw.url}/#/events/${failed.event_id}`);
    await page.locator("#event-deliveries").waitFor();
    await page.locator("#event-deliveries tbody tr").first().getByRole("link", { name: "Preview CRM with this event" }).click();
    await expectPreviewOfFailed('{"call": "call-old", "caller": "+15550001111"}');

    // An event no longer stored: said so, and a sample previewed instead.
    await page.goto(`${t.gw.url}/#/webhooks/${crm.id}?event=evt_gone`);
    await expect.poll(() => page.locator("#preview-event-unknown").textContent()).toBe("The event evt_gone is not stored (any more): pick another.");
    expect(await chooser.inputValue()).toMatch(/^sample:/);
  });

  it("shows what a receiver answered on a phone's width, on the attempt's own lines rather than off to the side", async () => {
    const { page } = session;
    const crm = await createWebhook(t.gw, { name: "CRM", url: `${t.receiver.url}/crm`, retries: 0 });
    crmWithKey("new-key");
    const delivery = (await t.gw.api("POST", `/api/webhooks/${crm.id}/test`)).body;
    await t.gw.settle();
    await page.setViewportSize(PHONE);
    await session.signIn();
    await page.goto(`${t.gw.url}/#/deliveries/${delivery.id}`);
    const response = page.locator("#attempts tbody td").last();
    await expect.poll(() => response.textContent()).toContain("API key rotated");
    const box = (await response.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    expect(await page.locator("#attempts").evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    // Still a table to a screen reader: each value under its column's header.
    expect(await page.getByRole("columnheader").allTextContents()).toContain("Response");
    expect(await page.getByRole("cell", { name: /API key rotated/ }).count()).toBe(1);
  });
});

import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { ADMIN_TOKEN } from "./gateway.js";
import { gatewayPerTest, type GatewayPerTest } from "./gateway-per-test.js";

// The console's browser tests: Debian's Chromium, driven by playwright-core, against a real gateway and real
// receivers, fresh for each test.

/** The window of the console's tests, a laptop's. */
export const VIEWPORT = { width: 1366, height: 800 };

/** What each console test gets: the gateway, receiver and page, fresh, and signing in. */
export interface ConsolePerTest {
  t: GatewayPerTest;
  /** The page of the current test. */
  page: Page;
  signIn(token?: string): Promise<void>;
}

/**
 * Registers, for the file (or describe block) it is called in: a browser for all its tests, and for each
 * test a gateway without a source, a receiver and a page; after each, that the page asked nothing of anyone
 * but the gateway and that no script failed.
 */
export function consolePerTest(): ConsolePerTest {
  let browser: Browser;
  let requested: string[];
  let pageErrors: string[];
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    });
  });
  afterAll(() => browser?.close());
  // Registered before the gateway, so run after it stops (and after the page closes).
  afterEach(() => {
    expect(requested.filter((url) => !url.startsWith(each.t.gw.url) && !url.startsWith("data:"))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
  const each = { t: gatewayPerTest({ source: false }) } as ConsolePerTest;
  beforeEach(async () => {
    each.page = await browser.newPage({ viewport: VIEWPORT });
    requested = [];
    pageErrors = [];
    each.page.on("request", (request) => requested.push(request.url()));
    each.page.on("pageerror", (error) => pageErrors.push(error.message));
  });
  afterEach(() => each.page.close());
  each.signIn = async (token = ADMIN_TOKEN) => {
    await each.page.goto(`${each.t.gw.url}/`);
    await each.page.getByLabel("Admin token").fill(token);
    await each.page.keyboard.press("Enter");
  };
  return each;
}

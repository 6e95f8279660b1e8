import { Hono } from "hono";
import { DELIVERY_STATUSES } from "../domain/delivery.js";
import { DIRECTIONS, EVENT_TYPES, HANGUP_CAUSES, SOURCE_KINDS } from "../domain/event.js";
import { DEFAULT_MESSAGE_GROUP_ID } from "../domain/sqs.js";
import { METHODS, SIGNINGS, TRANSPORTS, WEBHOOK_DEFAULTS } from "../domain/webhook.js";

/** The console's files (`src/console/assets/`), as each runtime loads them: read on Node, bundled on Workers. */
export const CONSOLE_FILES = {
  "index.html": "text/html; charset=utf-8",
  "console.css": "text/css; charset=utf-8",
  "console.mjs": "text/javascript; charset=utf-8",
  "api.mjs": "text/javascript; charset=utf-8",
  "dom.mjs": "text/javascript; charset=utf-8",
  "sources.mjs": "text/javascript; charset=utf-8",
  "webhooks.mjs": "text/javascript; charset=utf-8",
  "fields.mjs": "text/javascript; charset=utf-8",
  "webhook-form.mjs": "text/javascript; charset=utf-8",
  "webhook-controls.mjs": "text/javascript; charset=utf-8",
  "webhook-sections.mjs": "text/javascript; charset=utf-8",
  "preset-picker.mjs": "text/javascript; charset=utf-8",
  "webhook-save.mjs": "text/javascript; charset=utf-8",
  "webhook-notices.mjs": "text/javascript; charset=utf-8",
  "preview.mjs": "text/javascript; charset=utf-8",
  "preview-events.mjs": "text/javascript; charset=utf-8",
  "recover.mjs": "text/javascript; charset=utf-8",
  "replay.mjs": "text/javascript; charset=utf-8",
  "since-panel.mjs": "text/javascript; charset=utf-8",
  "deliveries.mjs": "text/javascript; charset=utf-8",
  "events.mjs": "text/javascript; charset=utf-8",
} as const;

export type ConsoleFile = keyof typeof CONSOLE_FILES;
export type ConsoleAssets = Record<ConsoleFile, string>;

/** The domain's word lists as a module of the console, so that its forms offer exactly what the API accepts. */
const VOCABULARY = Object.entries({
  EVENT_TYPES,
  DIRECTIONS,
  HANGUP_CAUSES,
  SOURCE_KINDS,
  METHODS,
  SIGNINGS,
  TRANSPORTS,
  DEFAULT_MESSAGE_GROUP_ID,
  DELIVERY_STATUSES,
  WEBHOOK_DEFAULTS,
})
  .map(([name, value]) => `export const ${name} = ${JSON.stringify(value)};\n`)
  .join("");

// Everything comes from the gateway itself; the policy makes a stray external request fail loudly.
const HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

const respond = (body: string, contentType: string) => new Response(body, { headers: { "content-type": contentType, ...HEADERS } });

/** The web console at `/`, its modules and stylesheet under `/console/`. It signs in with the admin token. */
export function consoleRoutes(assets: ConsoleAssets): Hono {
  const app = new Hono();
  app.get("/", () => respond(assets["index.html"], CONSOLE_FILES["index.html"]));
  app.get("/console/vocabulary.mjs", () => respond(VOCABULARY, CONSOLE_FILES["console.mjs"]));
  app.get("/console/:file", (c) => {
    const file = c.req.param("file");
    return Object.hasOwn(CONSOLE_FILES, file) && file !== "index.html" ? respond(assets[file as ConsoleFile], CONSOLE_FILES[file as ConsoleFile]) : c.notFound();
  });
  return app;
}

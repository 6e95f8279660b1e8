import { Hono } from "hono";

/** The console's files (`src/console/assets/`), as each runtime loads them: read on Node, bundled on Workers. */
export const CONSOLE_FILES = {
  "index.html": "text/html; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
  "console.css": "text/css; charset=utf-8",
} as const;

export type ConsoleFile = keyof typeof CONSOLE_FILES;
export type ConsoleAssets = Record<ConsoleFile, string>;

// Everything comes from the gateway itself; the policy makes a stray external request fail loudly.
const HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

/** The web console at `/`, its script and stylesheet under `/console/`. It signs in with the admin token. */
export function consoleRoutes(assets: ConsoleAssets): Hono {
  const app = new Hono();
  const serve = (file: ConsoleFile) => new Response(assets[file], { headers: { "content-type": CONSOLE_FILES[file], ...HEADERS } });
  app.get("/", () => serve("index.html"));
  app.get("/console/:file", (c) => {
    const file = c.req.param("file");
    return file in CONSOLE_FILES && file !== "index.html" ? serve(file as ConsoleFile) : c.notFound();
  });
  return app;
}

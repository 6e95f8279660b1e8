import css from "../console/assets/console.css";
import js from "../console/assets/console.js";
import html from "../console/assets/index.html";
import type { ConsoleAssets } from "../console/routes.js";

/** The console's files, bundled as text (wrangler.toml's Text rule; Workers have no file system). */
export const WORKER_CONSOLE: ConsoleAssets = { "index.html": html, "console.js": js, "console.css": css };

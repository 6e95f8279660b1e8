import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CONSOLE_FILES, type ConsoleAssets, type ConsoleFile } from "../console/routes.js";

const ASSETS_DIR = new URL("../console/assets/", import.meta.url);

/** The console's files, read once at start. */
export function loadConsoleAssets(): ConsoleAssets {
  const files = Object.keys(CONSOLE_FILES) as ConsoleFile[];
  return Object.fromEntries(files.map((file) => [file, readFileSync(fileURLToPath(new URL(file, ASSETS_DIR)), "utf8")])) as ConsoleAssets;
}

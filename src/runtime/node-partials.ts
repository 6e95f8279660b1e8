import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PARTIALS_DIR = fileURLToPath(new URL("../../templates/partials", import.meta.url));

/** Handlebars partials: each `templates/partials/<name>.hbs` is available as `{{> name}}`. */
export function loadPartials(dir = PARTIALS_DIR): Record<string, string> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith(".hbs"));
  } catch {
    return {};
  }
  return Object.fromEntries(files.map((file) => [basename(file, ".hbs"), readFileSync(join(dir, file), "utf8")]));
}

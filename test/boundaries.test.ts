import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The core runs unchanged on Node and in workerd: only src/runtime/ may know which runtime it is on.
const CORE = ["src/domain", "src/render", "src/sources", "src/delivery", "src/store", "src/api", "src/metrics"];
const ROOT = new URL("..", import.meta.url).pathname;
const RUNTIME_ONLY = /from\s+["'](node:[^"']+|undici|@libsql\/[^"']+|@hono\/node-server|fs|path|os|http)["']|\bprocess\.|\bBuffer\b|\bnew Function\b|\beval\(/;

const code = (file: string) => readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("runtime boundaries", () => {
  it("keeps Node, undici, libSQL and code generation out of the core", () => {
    const offenders = CORE.flatMap((dir) => filesUnder(join(ROOT, dir)))
      .concat(join(ROOT, "src/app.ts"))
      .filter((file) => RUNTIME_ONLY.test(code(file)))
      .map((file) => file.slice(ROOT.length));
    expect(offenders).toEqual([]);
  });
});

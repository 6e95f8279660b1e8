import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// The core runs unchanged on Node and in workerd: only src/runtime/ may know which runtime it is on. And data
// flows one way: the inner folders (domain, then render, sources and metrics) import nothing from outer ones.
const ROOT = new URL("..", import.meta.url).pathname;
const SRC = join(ROOT, "src");
const RUNTIME_ONLY =
  /(?:from|import)\s*\(?\s*["'](node:[^"']+|undici|libsql|@libsql\/[^"']+|@hono\/node-server|fs|path|os|http)["']|\bprocess\.|\bBuffer\b|\bnew Function\b|\beval\(/;

/** The folders of src/ each inner folder may import from (besides itself and packages). */
const MAY_IMPORT: Record<string, string[]> = {
  domain: [],
  render: ["domain"],
  sources: ["domain"],
  metrics: ["domain"],
};

const code = (file: string) => readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(ts|mjs)$/.test(path) ? [path] : [];
  });
}

/** The top folder (or file) of src/ that a relative import of `file` lands in. */
function importedFolders(file: string): string[] {
  const specifiers = [...code(file).matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)].map((match) => match[1]);
  return specifiers.map((specifier) => relative(SRC, join(file, "..", specifier)).split("/")[0].replace(/\.js$/, ""));
}

describe("runtime boundaries", () => {
  it("keeps Node, undici, libSQL and code generation out of everything but src/runtime", () => {
    const offenders = filesUnder(SRC)
      .filter((file) => !file.startsWith(join(SRC, "runtime")))
      .filter((file) => RUNTIME_ONLY.test(code(file)))
      .map((file) => file.slice(ROOT.length));
    expect(offenders).toEqual([]);
  });

  it("keeps the domain, rendering, sources and metrics free of the layers that use them", () => {
    const offenders = Object.entries(MAY_IMPORT).flatMap(([folder, allowed]) =>
      filesUnder(join(SRC, folder)).flatMap((file) =>
        importedFolders(file)
          .filter((target) => target !== folder && !allowed.includes(target))
          .map((target) => `${file.slice(ROOT.length)} imports ${target}`),
      ),
    );
    expect(offenders).toEqual([]);
  });
});

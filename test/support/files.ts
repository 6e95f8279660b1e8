/**
 * Project files the tests read (fixtures, templates, sources), bundled by Vite so that the same test
 * runs on Node and inside workerd, which has no file system. Paths are relative to the project root.
 */
declare global {
  interface ImportMeta {
    /** Vite's glob import (vite/client declares it; vite is not a direct dependency). */
    glob(patterns: string[], options: { query: string; import: string; eager: true }): Record<string, unknown>;
  }
}

const FILES = import.meta.glob(["../fixtures/**/*", "../../templates/**/*", "../../src/render/handlebars/*.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

const byPath = new Map(Object.entries(FILES).map(([key, text]) => [key.replace(/^(\.\.\/)+/, "").replace(/^fixtures\//, "test/fixtures/"), text]));

export function projectFile(path: string): string {
  const text = byPath.get(path);
  if (text === undefined) throw new Error(`${path}: not among the files the tests bundle (test/support/files.ts)`);
  return text;
}

export function projectJson<T = any>(path: string): T {
  return JSON.parse(projectFile(path));
}

/** Paths directly or indirectly under `folder`, sorted. */
export function projectFiles(folder: string): string[] {
  const prefix = folder.endsWith("/") ? folder : `${folder}/`;
  return [...byPath.keys()].filter((path) => path.startsWith(prefix)).sort();
}

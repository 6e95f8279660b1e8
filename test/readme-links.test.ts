import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/readme.js";

// The README's links within itself: each names a heading, and the contents line under the introduction names
// every section, in order.

const readme = readFileSync(`${ROOT}README.md`, "utf8");
/** The README without its code blocks, where `#` starts comments, not headings. */
const prose = readme.replace(/```[\s\S]*?```/g, "");

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, "")
    .replace(/ /g, "-");

describe("README links", () => {
  it("point at headings that exist", () => {
    const anchors = new Set([...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
    const links = [...prose.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });

  it("list every section in the contents line, in order", () => {
    const contents = /^Contents: ([\s\S]*?)\n\n/m.exec(prose)?.[1] ?? "";
    const listed = [...contents.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    const sections = [...prose.matchAll(/^## (.+)$/gm)].map((m) => anchorOf(m[1]));
    expect(listed).toEqual(sections);
  });
});

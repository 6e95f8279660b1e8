import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

// The README's shell lines, as the tests that run them read them: from the project's root, with bash.

export const ROOT = new URL("../..", import.meta.url).pathname;

const readme = () => readFileSync(`${ROOT}README.md`, "utf8");

/** What a shell script prints, run with bash from the project's root with these variables set. */
export async function runShell(script: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)("bash", ["-euc", script], { cwd: ROOT, env: { ...process.env, ...env } });
  return stdout;
}

/** The README's try-a-source block, one command per source kind, keyed by the comment above it. */
export function tryASourceCommands(): Record<string, string> {
  const block = /To try a source before its PBX is set up[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme())?.[1];
  if (!block) throw new Error("README: the try-a-source block is missing");
  const commands: Record<string, string> = {};
  for (const part of block.split(/^# /m).filter(Boolean)) {
    const [comment, ...lines] = part.split("\n");
    commands[comment.split(":")[0]] = lines.join("\n");
  }
  return commands;
}

/** The `sh` blocks of the README section under `heading` (a `## ` heading), in order. */
export function sectionShellBlocks(heading: string): string[] {
  const text = readme();
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README: the section "${heading}" is missing`);
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]);
}

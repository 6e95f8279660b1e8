import { parseRegex, type RegexNode } from "./regex-parse.js";

// JavaScript runs a regular expression match as one uninterruptible step, so JSONata's time limit cannot stop a
// pattern that backtracks catastrophically, and a caller number chosen by whoever places the call would block the
// process. This static check refuses the pattern shapes that backtrack super-linearly. It is conservative: some
// refused patterns are in fact safe, and the error says how to rewrite them.

/** The longest regular expression pattern a rule may hold, in characters. */
export const MAX_REGEX_LENGTH = 200;

/** Repeats whose count may vary by more than this are open-ended: `*`, `+`, `{n,}`, `{1,500}`. */
const OPEN_ENDED = 100;

/** Class-against-class comparisons one pattern may ask for (each scans 64 K code units): bounds the check's own time. */
const MAX_CLASS_COMPARISONS = 200;

/** Every UTF-16 code unit once: without the `u` flag each is one "character", so this decides any class overlap. */
let allCodeUnits: string | undefined;
function everyCodeUnit(): string {
  if (allCodeUnits === undefined) {
    const chunks: string[] = [];
    for (let start = 0; start < 0x10000; start += 0x1000) {
      chunks.push(String.fromCharCode(...Array.from({ length: 0x1000 }, (_, i) => start + i)));
    }
    allCodeUnits = chunks.join("");
  }
  return allCodeUnits;
}

class TooComplex extends Error {}

/**
 * Whether two single-character matchers (`a`, `\d`, `[a-f]`, `.`) share a character, under the pattern's flags.
 * Each is a one-character pattern, so the regexes built here cannot backtrack.
 */
function overlapTester(flags: string): (a: string, b: string) => boolean {
  const caseFlag = flags.includes("i") ? "i" : "";
  const seen = new Map<string, boolean>();
  let classComparisons = 0;
  const literal = (source: string) => source.length === 1 && source !== ".";
  return (a, b) => {
    const key = `${a}\u0000${b}`;
    let result = seen.get(key);
    if (result !== undefined) return result;
    if (literal(a) || literal(b)) {
      const [char, other] = literal(a) ? [a, b] : [b, a];
      result = new RegExp(`^(?:${other})$`, caseFlag).test(char);
    } else {
      if (++classComparisons > MAX_CLASS_COMPARISONS) throw new TooComplex();
      result = new RegExp(`(?=(?:${a}))(?:${b})`, caseFlag).test(everyCodeUnit());
    }
    seen.set(key, result);
    return result;
  };
}

type Overlaps = (a: string, b: string) => boolean;

/** `(x)` and `(?:x)` around a single node are that node. */
function unwrap(node: RegexNode): RegexNode {
  while (node.kind === "group" && !node.lookaround && node.branches.length === 1 && node.branches[0].length === 1) {
    node = node.branches[0][0];
  }
  return node;
}

type Repeat = Extract<RegexNode, { kind: "repeat" }>;
const repeats = (node: Repeat): boolean => node.max > 1;
const openEnded = (node: RegexNode): boolean => node.kind === "repeat" && node.max - node.min > OPEN_ENDED;

function nullable(node: RegexNode): boolean {
  if (node.kind === "atom") return false;
  if (node.kind === "repeat") return node.min === 0 || nullable(node.body);
  if (node.kind === "group") return node.lookaround || node.branches.some((branch) => branch.every(nullable));
  return true;
}

/** Every node inside `node`, itself included. */
function* nodesIn(node: RegexNode): Generator<RegexNode> {
  yield node;
  if (node.kind === "repeat") yield* nodesIn(node.body);
  if (node.kind === "group") for (const branch of node.branches) for (const inner of branch) yield* nodesIn(inner);
}

/** The single-character matchers a sequence can start with, or null when it may match nothing or is not simple. */
function firstAtoms(sequence: RegexNode[]): string[] | null {
  for (const node of sequence) {
    if (node.kind === "assertion") continue;
    if (node.kind === "atom") return [node.source];
    if (node.kind === "repeat" && node.min > 0) return firstAtoms([node.body]);
    if (node.kind !== "group" || node.lookaround) return null;
    const firsts = node.branches.map(firstAtoms);
    return firsts.some((first) => first === null) ? null : (firsts as string[][]).flat();
  }
  return null;
}

function branchesOverlap(branches: RegexNode[][], overlaps: Overlaps): boolean {
  const firsts = branches.map(firstAtoms);
  for (let i = 0; i < firsts.length; i++) {
    for (let j = i + 1; j < firsts.length; j++) {
      const [a, b] = [firsts[i], firsts[j]];
      if (a === null || b === null || a.some((x) => b.some((y) => overlaps(x, y)))) return true;
    }
  }
  return false;
}

/** What is wrong with a repeated node: a quantifier inside it, or alternatives inside it that can start alike. */
function repeatHazard(repeat: Repeat, overlaps: Overlaps): string | null {
  const inner = [...nodesIn(repeat.body)];
  if (inner.some((node) => node.kind === "repeat" && node.min !== node.max)) {
    return `the repeated group ${repeat.source} contains a quantifier, so a long input can be split between them in exponentially many ways; rewrite it without a quantifier inside the repeated group`;
  }
  for (const node of inner) {
    if (node.kind === "group" && node.branches.length > 1 && branchesOverlap(node.branches, overlaps)) {
      return `the repeated group ${repeat.source} has alternatives that can start with the same character (or match nothing), so a long input can be split between them in exponentially many ways; make the alternatives start differently or use a character class`;
    }
  }
  return null;
}

/** `\d+\d+`, `a*\s*a+`: open-ended repeats of overlapping characters, side by side, multiply the work. */
function adjacentHazard(sequence: RegexNode[], overlaps: Overlaps): string | null {
  const openAtom = (node: RegexNode) => {
    const inner = unwrap(node);
    return openEnded(inner) && inner.kind === "repeat" && unwrap(inner.body).kind === "atom" ? inner : null;
  };
  for (let i = 0; i < sequence.length; i++) {
    const first = openAtom(sequence[i]);
    if (!first) continue;
    for (const next of sequence.slice(i + 1)) {
      const second = openAtom(next);
      const [a, b] = [unwrap(first.body), second && unwrap(second.body)] as const;
      if (second && a.kind === "atom" && b?.kind === "atom" && overlaps(a.source, b.source)) {
        return `${first.source} and ${second.source} follow each other and can match the same characters, so a long input can be split between them in many ways; make one of them exclude the other's characters`;
      }
      if (!nullable(next)) break;
    }
  }
  return null;
}

function nodeHazard(node: RegexNode, overlaps: Overlaps): string | null {
  const inner = unwrap(node);
  if (inner.kind === "backreference") {
    return `the back-reference ${inner.source} can make matching take exponential time; match the text without referring back to a group`;
  }
  if (inner.kind === "repeat") return (repeats(inner) && repeatHazard(inner, overlaps)) || nodeHazard(inner.body, overlaps);
  if (inner.kind === "group") return firstHazard(inner.branches, overlaps);
  return null;
}

function sequenceHazard(sequence: RegexNode[], overlaps: Overlaps): string | null {
  return adjacentHazard(sequence, overlaps) ?? firstOf(sequence, (node) => nodeHazard(node, overlaps));
}

function firstHazard(branches: RegexNode[][], overlaps: Overlaps): string | null {
  return firstOf(branches, (branch) => sequenceHazard(branch, overlaps));
}

function firstOf<T>(items: T[], hazard: (item: T) => string | null): string | null {
  for (const item of items) {
    const found = hazard(item);
    if (found) return found;
  }
  return null;
}

/**
 * Why matching this regular expression could take more than linear time on some input (nested quantifiers,
 * repeated overlapping alternatives, adjacent overlapping quantifiers, back-references, an overlong pattern), or
 * null when the check finds none of these.
 */
export function regexHazard(source: string, flags = ""): string | null {
  if (source.length > MAX_REGEX_LENGTH) {
    return `the pattern is ${source.length} characters long, more than the ${MAX_REGEX_LENGTH} allowed`;
  }
  const branches = parseRegex(source);
  try {
    return firstHazard(branches, overlapTester(flags));
  } catch (error) {
    if (error instanceof TooComplex) return "the pattern has too many character classes to check for slow matching; simplify it";
    throw error;
  }
}

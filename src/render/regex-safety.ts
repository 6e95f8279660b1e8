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
const MAX_CLASS_COMPARISONS = 400;

type Repeat = Extract<RegexNode, { kind: "repeat" }>;
type Overlaps = (a: string, b: string) => boolean;

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
function overlapTester(flags: string): Overlaps {
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

/** `(x)` and `(?:x)` around a single node are that node. */
function unwrap(node: RegexNode): RegexNode {
  while (node.kind === "group" && !node.lookaround && node.branches.length === 1 && node.branches[0].length === 1) {
    node = node.branches[0][0];
  }
  return node;
}

/** A sequence with its plain groups (`(ab)`, `(?:ab)`) spliced in: they add no choice of their own. */
function flatten(sequence: RegexNode[]): RegexNode[] {
  return sequence.flatMap((node) => {
    const inner = unwrap(node);
    return inner.kind === "group" && !inner.lookaround && inner.branches.length === 1 ? flatten(inner.branches[0]) : [inner];
  });
}

const openEnded = (node: RegexNode): boolean => node.kind === "repeat" && node.max - node.min > OPEN_ENDED;

/**
 * Whether backtracking can make this node take more or fewer characters without bound: an open-ended repeat, or a
 * group or optional part with one inside. Lookarounds do not count: once one matches, JavaScript never backtracks into it.
 */
function open(node: RegexNode): boolean {
  if (openEnded(node)) return true;
  if (node.kind === "group") return !node.lookaround && node.branches.some((branch) => branch.some(open));
  return node.kind === "repeat" && open(node.body);
}

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

const atomsIn = (node: RegexNode): string[] => [...nodesIn(node)].flatMap((n) => (n.kind === "atom" ? [n.source] : []));

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

/** What is wrong with a node repeated more than once: a quantifier inside it, or alternatives inside it that start alike. */
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

/** Where a sequence stands: a top-level branch (anchored by a leading `^` or not) or inside a group. */
interface Place {
  topLevel: boolean;
  anchored: boolean;
}

/**
 * Open-ended repeats that can take the same characters, with nothing between them that the first could not take
 * too (`\d+\d+$`, `a*\s*a+x`, `.*a.*b`), form a chain: each link multiplies the ways to split an input, and so the
 * time to fail on it. One link is linear per starting point; a search tries every starting point unless the
 * pattern is anchored with `^`, so an anchored pattern may have a chain of two, an unanchored one no chain at all.
 * A repeat that ends a whole pattern adds no link: nothing after it can fail and make it give characters back.
 */
function chainHazard(sequence: RegexNode[], place: Place, overlaps: Overlaps): string | null {
  const nodes = flatten(sequence);
  const shares = (a: RegexNode, b: RegexNode) => atomsIn(a).some((x) => atomsIn(b).some((y) => overlaps(x, y)));
  const linked = (i: number, j: number) =>
    shares(nodes[i], nodes[j]) && nodes.slice(i + 1, j).every((between) => nullable(between) || shares(nodes[i], between));
  const allowed = place.anchored ? 2 : 1;
  const chain: number[] = [];
  for (let j = 0; j < nodes.length; j++) {
    const last = nodes[j];
    if (!open(last) || (place.topLevel && j === nodes.length - 1 && j > 0 && openEnded(last))) continue;
    chain[j] = 1;
    for (let i = 0; i < j; i++) {
      if (!chain[i] || !linked(i, j)) continue;
      chain[j] = Math.max(chain[j], chain[i] + 1);
      if (chain[j] > allowed) {
        const hint = place.anchored ? "" : "anchor the pattern with ^ (a leading .* is never needed), or ";
        return `${sourceOf(nodes[i])} and ${sourceOf(last)} can take the same characters, with nothing between them that the first cannot take too, so a long input can be split between them in many ways; ${hint}make one of them exclude the other's characters`;
      }
    }
  }
  return null;
}

const sourceOf = (node: RegexNode): string => ("source" in node ? node.source : "");

function nodeHazard(node: RegexNode, overlaps: Overlaps): string | null {
  const inner = unwrap(node);
  if (inner.kind === "backreference") {
    return `the back-reference ${inner.source} can make matching take exponential time; match the text without referring back to a group`;
  }
  if (inner.kind === "repeat") return (inner.max > 1 && repeatHazard(inner, overlaps)) || partHazard(inner.body, overlaps);
  // A plain group's sequence was spliced into the one around it (see flatten), and its chains checked there.
  if (inner.kind !== "group") return null;
  if (!inner.lookaround && inner.branches.length === 1) return firstOf(inner.branches[0], (n) => nodeHazard(n, overlaps));
  return partHazard(inner, overlaps);
}

/** A part matched on its own (a repeated body, an alternative, a lookaround): each sequence in it stands alone. */
function partHazard(node: RegexNode, overlaps: Overlaps): string | null {
  if (node.kind !== "group") return nodeHazard(node, overlaps);
  return firstOf(node.branches, (branch) => sequenceHazard(branch, NESTED, overlaps));
}

const NESTED: Place = { topLevel: false, anchored: false };

function sequenceHazard(sequence: RegexNode[], place: Place, overlaps: Overlaps): string | null {
  return chainHazard(sequence, place, overlaps) ?? firstOf(sequence, (node) => nodeHazard(node, overlaps));
}

function firstOf<T>(items: T[], hazard: (item: T) => string | null): string | null {
  for (const item of items) {
    const found = hazard(item);
    if (found) return found;
  }
  return null;
}

/** A branch that starts with `^` is tried at the start of the text only (of each line, with the `m` flag: not so). */
function anchoredAtStart(branch: RegexNode[], flags: string): boolean {
  const first = flatten(branch)[0];
  return !flags.includes("m") && first?.kind === "assertion" && first.source === "^";
}

/**
 * Why matching this regular expression could take more than linear time on some input (nested quantifiers,
 * repeated overlapping alternatives, chains of overlapping open-ended quantifiers, back-references, an overlong
 * pattern), or null when the check finds none of these.
 */
export function regexHazard(source: string, flags = ""): string | null {
  if (source.length > MAX_REGEX_LENGTH) {
    return `the pattern is ${source.length} characters long, more than the ${MAX_REGEX_LENGTH} allowed`;
  }
  const overlaps = overlapTester(flags);
  try {
    return firstOf(parseRegex(source), (branch) =>
      sequenceHazard(branch, { topLevel: true, anchored: anchoredAtStart(branch, flags) }, overlaps),
    );
  } catch (error) {
    if (error instanceof TooComplex) return "the pattern has too many character classes to check for slow matching; simplify it";
    throw error;
  }
}

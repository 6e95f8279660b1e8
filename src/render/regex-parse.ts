/**
 * A parser of JavaScript regular expressions as JSONata writes them (flags `i` and `m` only, so never `u` or `v`:
 * the lenient Annex B syntax, where every "character" is one UTF-16 code unit). It keeps only what the safety
 * check in regex-safety.ts needs: which parts repeat, what they contain, and where the alternatives are.
 * It runs on patterns the RegExp constructor has already accepted, so it need not report syntax errors.
 */

export type RegexNode =
  /** Matches exactly one code unit: a literal, an escape such as `\d`, `.` or a class `[...]`; `source` as written. */
  | { kind: "atom"; source: string }
  /** `^`, `$`, `\b`, `\B`: matches no characters. */
  | { kind: "assertion"; source: string }
  /** `(...)`, `(?:...)`, `(?<name>...)` or a lookaround, with its alternatives; `source` as written. */
  | { kind: "group"; lookaround: boolean; branches: RegexNode[][]; source: string }
  /** A quantified node; `source` is the node and its quantifier as written, for error messages. */
  | { kind: "repeat"; body: RegexNode; min: number; max: number; source: string }
  /** `\1` or `\k<name>`. */
  | { kind: "backreference"; source: string };

const HEX2 = /^[0-9a-fA-F]{2}/;
const HEX4 = /^[0-9a-fA-F]{4}/;
const BRACES = /^\{(\d+)(?:(,)(\d*))?\}/;

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): RegexNode[][] {
    return this.alternatives();
  }

  private peek(offset = 0): string {
    return this.src.charAt(this.pos + offset);
  }

  private alternatives(): RegexNode[][] {
    const branches = [this.sequence()];
    while (this.peek() === "|") {
      this.pos++;
      branches.push(this.sequence());
    }
    return branches;
  }

  private sequence(): RegexNode[] {
    const nodes: RegexNode[] = [];
    while (this.pos < this.src.length && this.peek() !== "|" && this.peek() !== ")") {
      const start = this.pos;
      nodes.push(this.quantified(this.term(), start));
    }
    return nodes;
  }

  private term(): RegexNode {
    const c = this.peek();
    if (c === "^" || c === "$") {
      this.pos++;
      return { kind: "assertion", source: c };
    }
    if (c === "(") return this.group();
    if (c === "[") return this.atom(this.classEnd());
    if (c === "\\") return this.escape();
    return this.atom(this.pos + 1);
  }

  private atom(end: number): RegexNode {
    const source = this.src.slice(this.pos, end);
    this.pos = end;
    return { kind: "atom", source };
  }

  private group(): RegexNode {
    const start = this.pos++;
    let lookaround = false;
    if (this.src.startsWith("?:", this.pos)) this.pos += 2;
    else if (this.src.startsWith("?=", this.pos) || this.src.startsWith("?!", this.pos)) [this.pos, lookaround] = [this.pos + 2, true];
    else if (this.src.startsWith("?<=", this.pos) || this.src.startsWith("?<!", this.pos)) [this.pos, lookaround] = [this.pos + 3, true];
    else if (this.src.startsWith("?<", this.pos)) this.pos = (this.src.indexOf(">", this.pos) + 1 || this.src.length);
    const branches = this.alternatives();
    if (this.peek() === ")") this.pos++;
    return { kind: "group", lookaround, branches, source: this.src.slice(start, this.pos) };
  }

  /** The index after the `]` closing the class that starts here (`[]` and `[^]` are complete classes in JS). */
  private classEnd(): number {
    let i = this.pos + 1;
    if (this.src.charAt(i) === "^") i++;
    while (i < this.src.length && this.src.charAt(i) !== "]") i += this.src.charAt(i) === "\\" ? 2 : 1;
    return Math.min(i + 1, this.src.length);
  }

  private escape(): RegexNode {
    const next = this.peek(1);
    const rest = this.src.slice(this.pos + 2);
    if (next === "b" || next === "B") {
      this.pos += 2;
      return { kind: "assertion", source: `\\${next}` };
    }
    // Without named groups `\k` is a plain "k", and `\1` without a group 1 an octal escape: both are rare enough
    // to refuse along with the real back-references.
    const reference = /^(?:[1-9]\d*|k<[^>]*>)/.exec(this.src.slice(this.pos + 1));
    if (reference) {
      const source = this.src.slice(this.pos, this.pos + 1 + reference[0].length);
      this.pos += source.length;
      return { kind: "backreference", source };
    }
    if (next === "c" && /^[A-Za-z]/.test(rest)) return this.atom(this.pos + 3);
    if (next === "x" && HEX2.test(rest)) return this.atom(this.pos + 4);
    if (next === "u" && HEX4.test(rest)) return this.atom(this.pos + 6);
    if (next === "0") return this.atom(this.pos + 2 + /^[0-7]{0,2}/.exec(rest)![0].length);
    return this.atom(this.pos + 2);
  }

  /** The node with the quantifier that follows it, if any (`{` that does not form one is a literal in Annex B). */
  private quantified(node: RegexNode, start: number): RegexNode {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === "*" || c === "+" || c === "?") {
      [min, max] = [c === "+" ? 1 : 0, c === "?" ? 1 : Infinity];
      this.pos++;
    } else if (c === "{" && BRACES.test(this.src.slice(this.pos))) {
      const [whole, low, comma, high] = BRACES.exec(this.src.slice(this.pos))!;
      [min, max] = [Number(low), comma ? (high ? Number(high) : Infinity) : Number(low)];
      this.pos += whole.length;
    } else {
      return node;
    }
    if (this.peek() === "?") this.pos++; // lazy: the same search space, explored in another order
    return { kind: "repeat", body: node, min, max, source: this.src.slice(start, this.pos) };
  }
}

/** The alternatives of a pattern (`a|b` gives two), each a sequence of nodes. */
export function parseRegex(source: string): RegexNode[][] {
  return new Parser(source).parse();
}

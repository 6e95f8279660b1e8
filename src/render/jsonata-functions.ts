import jsonata from "jsonata";

// JSONata's built-in functions as rules may use them. Each built-in runs as one step, which neither the
// step budget nor (on a deployed Worker) the time limit can interrupt, and `&` joins texts cheaply: a lambda
// that doubles a text 28 times holds 268 million characters after a few milliseconds, and the first function
// that reads it ($uppercase, $length, ...) then stalls the process for seconds. So the text functions refuse
// a text beyond what any request may carry, `$pad` a width beyond lining values up, and `$eval` is withheld:
// what it parses at run time escapes the checks made when a rule is saved (its regular expressions above all).

/** The longest text a JSONata text function takes: twice the largest body a request may have. */
export const MAX_FUNCTION_TEXT = 1_048_576;

/**
 * The widest `$pad`. JSONata builds the padding in one call: a `$pad("", 500000000)` is a 500-million-character
 * text. Padding is for lining values up: an event's texts are at most 2,048 characters.
 */
export const MAX_PAD_WIDTH = 4_096;

/** JSONata's text functions and their signatures (as jsonata.js declares them): each reads its whole input. */
const TEXT_FUNCTIONS: Record<string, string> = {
  string: "<x-b?:s>",
  substring: "<s-nn?:s>",
  substringBefore: "<s-s:s>",
  substringAfter: "<s-s:s>",
  lowercase: "<s-:s>",
  uppercase: "<s-:s>",
  length: "<s-:n>",
  trim: "<s-:s>",
  pad: "<s-ns?:s>",
  match: "<s-f<s:o>n?:a<o>>",
  contains: "<s-(sf):b>",
  replace: "<s-(sf)(sf)n?:s>",
  split: "<s-(sf)n?:a<s>>",
  join: "<a<s>s?:s>",
  base64encode: "<s-:s>",
  base64decode: "<s-:s>",
  encodeUrlComponent: "<s-:s>",
  encodeUrl: "<s-:s>",
  decodeUrlComponent: "<s-:s>",
  decodeUrl: "<s-:s>",
};

type Implementation = (this: unknown, ...args: unknown[]) => unknown;
type Expression = ReturnType<typeof jsonata>;

/** JSONata's own implementations, kept as functions (not pending promises, which a Workers isolate's requests must not share). */
const builtins = new Map<string, Implementation>();

async function builtin(name: string): Promise<Implementation> {
  let implementation = builtins.get(name);
  if (!implementation) {
    implementation = ((await jsonata(`$${name}`).evaluate({})) as { implementation: Implementation }).implementation;
    builtins.set(name, implementation);
  }
  return implementation;
}

/** Whether the texts in `value` (a text, or texts in arrays and objects) come to more than `limit` characters. */
export function exceedsText(value: unknown, limit: number): boolean {
  let left = limit;
  const pending: unknown[] = [value];
  for (let seen = 0; pending.length && seen < 100_000; seen++) {
    const item = pending.pop();
    if (typeof item === "string") left -= item.length;
    else if (item !== null && typeof item === "object") pending.push(...Object.values(item));
    if (left < 0) return true;
  }
  return false;
}

function guarded(name: string, check?: (args: unknown[]) => void): Implementation {
  return async function (this: unknown, ...args: unknown[]) {
    if (args.some((arg) => exceedsText(arg, MAX_FUNCTION_TEXT))) {
      throw new Error(`$${name}: a text of more than ${MAX_FUNCTION_TEXT} characters`);
    }
    check?.(args);
    return (await builtin(name)).apply(this, args);
  };
}

function refuseWidePad([, width]: unknown[]): void {
  if (typeof width === "number" && Math.abs(width) > MAX_PAD_WIDTH) {
    throw new Error(`$pad: a width of ${width} is beyond the ${MAX_PAD_WIDTH} allowed`);
  }
}

function withheldEval(): never {
  throw new Error("$eval is not available: write the expression itself");
}

/** Puts the bounded functions in place of JSONata's own in a compiled expression. */
export function useBoundedFunctions(expression: Expression): void {
  for (const [name, signature] of Object.entries(TEXT_FUNCTIONS)) {
    expression.registerFunction(name, guarded(name, name === "pad" ? refuseWidePad : undefined), signature);
  }
  expression.registerFunction("eval", withheldEval, "<sx?:x>");
}

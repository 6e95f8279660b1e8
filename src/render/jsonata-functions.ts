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

/**
 * JSONata's text functions: each reads its whole input. Their signatures and parameters as jsonata.js declares
 * them: JSONata reads a native function's parameters from its source text (to apply it partially,
 * `$substring(?, 0, 2)`) and its arity from `length` (to know what `$map` and the like pass it).
 */
const TEXT_FUNCTIONS: Record<string, { signature: string; params: string }> = {
  string: { signature: "<x-b?:s>", params: "arg, prettify = false" },
  substring: { signature: "<s-nn?:s>", params: "str, start, length" },
  substringBefore: { signature: "<s-s:s>", params: "str, chars" },
  substringAfter: { signature: "<s-s:s>", params: "str, chars" },
  lowercase: { signature: "<s-:s>", params: "str" },
  uppercase: { signature: "<s-:s>", params: "str" },
  length: { signature: "<s-:n>", params: "str" },
  trim: { signature: "<s-:s>", params: "str" },
  pad: { signature: "<s-ns?:s>", params: "str, width, char" },
  match: { signature: "<s-f<s:o>n?:a<o>>", params: "str, regex, limit" },
  contains: { signature: "<s-(sf):b>", params: "str, token" },
  replace: { signature: "<s-(sf)(sf)n?:s>", params: "str, pattern, replacement, limit" },
  split: { signature: "<s-(sf)n?:a<s>>", params: "str, separator, limit" },
  join: { signature: "<a<s>s?:s>", params: "strs, separator" },
  base64encode: { signature: "<s-:s>", params: "str" },
  base64decode: { signature: "<s-:s>", params: "str" },
  encodeUrlComponent: { signature: "<s-:s>", params: "str" },
  encodeUrl: { signature: "<s-:s>", params: "str" },
  decodeUrlComponent: { signature: "<s-:s>", params: "str" },
  decodeUrl: { signature: "<s-:s>", params: "str" },
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

/**
 * Whether the texts in `value` (a text, or texts in arrays and objects, keys included) come to more than
 * `limit` characters. Every value takes at least a character when written, so the walk is bounded too.
 */
export function exceedsText(value: unknown, limit: number): boolean {
  let left = limit;
  const pending: unknown[] = [value];
  while (pending.length) {
    const item = pending.pop();
    left -= typeof item === "string" ? item.length : 1;
    if (left < pending.length) return true;
    if (item === null || typeof item !== "object") continue;
    for (const [key, inner] of Object.entries(item)) {
      left -= Array.isArray(item) ? 0 : key.length;
      pending.push(inner);
      if (left < pending.length) return true;
    }
  }
  return false;
}

function guarded(name: string, params: string, check?: (args: unknown[]) => void): Implementation {
  const wrapper = async function (this: unknown, ...args: unknown[]) {
    if (args.some((arg) => exceedsText(arg, MAX_FUNCTION_TEXT))) {
      throw new Error(`$${name}: a text of more than ${MAX_FUNCTION_TEXT} characters`);
    }
    check?.(args);
    return (await builtin(name)).apply(this, args);
  };
  // The built-in's parameters and arity, as JSONata reads them (see TEXT_FUNCTIONS).
  Object.defineProperty(wrapper, "length", { value: params.split(",").filter((param) => !param.includes("=")).length });
  wrapper.toString = () => `function (${params}) {}`;
  return wrapper;
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
  for (const [name, { signature, params }] of Object.entries(TEXT_FUNCTIONS)) {
    expression.registerFunction(name, guarded(name, params, name === "pad" ? refuseWidePad : undefined), signature);
  }
  expression.registerFunction("eval", withheldEval, "<sx?:x>");
}

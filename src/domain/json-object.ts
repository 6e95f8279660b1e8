/** The text as a JSON object, or null. Never the parser's message: it quotes the text, which may hold secrets. */
export function jsonObjectOf(text: string): object | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** Between a template's string indexes and the 1-based lines and columns an editor shows. */

/** 1-based line and column of a string index. */
export function positionOf(source: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf("\n"); i !== -1 && i < index; i = source.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: index - lineStart + 1 };
}

/** String index of a 1-based line and column. */
export function offsetOf(source: string, line: number, column: number): number {
  let index = 0;
  for (let l = 1; l < line; l++) {
    const next = source.indexOf("\n", index);
    if (next < 0) break;
    index = next + 1;
  }
  return index + column - 1;
}

/** The length of `text` in UTF-8 bytes, as a database stores it, counted without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair: one character beyond the BMP
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The start of `text` that fits in `maxBytes` of UTF-8, as if only that much of it had been read. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || utf8Length(text) <= maxBytes) return text;
  return decoder.decode(encoder.encode(text).subarray(0, maxBytes));
}

/**
 * The first `max` UTF-16 code units of `text` (an emoji counts two), one fewer where the cut would split a
 * surrogate pair: never half a character.
 */
export function textPrefix(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last < 0xdc00 ? max - 1 : max);
}

/**
 * `text` with each U+0000 as U+FFFD: libSQL on Node reads a stored text back only up to its first U+0000, so
 * text from outside (a receiver's reply) that keeps one would show cut short there.
 */
export function withoutNul(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

/**
 * The most one stored text may take: an event's payload, a delivery's rendered body. D1 stores at most
 * 1,000,000 bytes in a row; this leaves room for the row's other columns.
 */
export const MAX_STORED_TEXT_BYTES = 512 * 1024;

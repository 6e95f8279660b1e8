/**
 * How a runtime sends HTTP: a pooled undici Agent on Node, plain `fetch` on Workers. Everything above it
 * (signing, timeouts, response excerpts) is shared.
 */
export interface Transport {
  fetch(url: string, init: RequestInit): Promise<Response>;
}

/** Responses are kept in the attempt log up to this many bytes. */
export const RESPONSE_EXCERPT_BYTES = 4_096;

/** The start of a response body as text; the rest is not read, so a huge reply costs nothing. */
export async function readExcerpt(response: Response, maxBytes = RESPONSE_EXCERPT_BYTES): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  return new TextDecoder().decode(bytes);
}

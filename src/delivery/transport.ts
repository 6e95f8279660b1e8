/** Responses are kept in the attempt log up to this many bytes. */
export const RESPONSE_EXCERPT_BYTES = 4_096;

/** An answer as the gateway reads it: what it needs of a `Response`, and the start of its body. */
export interface TransportReply {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  text(): Promise<string>;
  /** The start of the body as text, up to `maxBytes`; the rest is not read, so a huge reply costs nothing. */
  excerpt(maxBytes?: number): Promise<string>;
}

/**
 * How a runtime sends HTTP: a pooled undici Agent on Node, plain `fetch` on Workers. Everything above it
 * (signing, timeouts, what is kept of a reply) is shared. It never follows a redirect, whatever `init` says:
 * a 3xx is the answer. Following one would take a delivery, or a preset's credentials, to a host nobody
 * configured, past the check made on the URL.
 */
export interface Transport {
  fetch(url: string, init: RequestInit): Promise<TransportReply>;
}

/** A fetch `Response` as a reply. */
export function replyOf(response: Response): TransportReply {
  return {
    status: response.status,
    ok: response.ok,
    headers: response.headers,
    text: () => response.text(),
    excerpt: (maxBytes = RESPONSE_EXCERPT_BYTES) => readExcerpt(response, maxBytes),
  };
}

/** The start of a response body as text, read from its web stream. */
async function readExcerpt(response: Response, maxBytes: number): Promise<string> {
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

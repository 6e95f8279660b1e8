/** Responses are kept in the attempt log up to this many bytes. */
export const RESPONSE_EXCERPT_BYTES = 4_096;

/** An answer as the gateway reads it: what it needs of a `Response`, and the start of its body. */
export interface TransportReply {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  /**
   * The whole body as text, or null when it is longer than `maxBytes`: read no further than that, so that a
   * reply without end (a hostile or broken server) cannot fill the gateway's memory.
   */
  text(maxBytes: number): Promise<string | null>;
  /** The start of the body as text, up to `maxBytes`; the rest is not read, so a huge reply costs nothing. */
  excerpt(maxBytes?: number): Promise<string>;
}

/** `text(maxBytes)` from the first bytes of a body: read up to one byte more than allowed, to know it is longer. */
export async function wholeText(prefix: (limit: number) => Promise<Uint8Array>, maxBytes: number): Promise<string | null> {
  const bytes = await prefix(maxBytes + 1);
  return bytes.length > maxBytes ? null : new TextDecoder().decode(bytes);
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
    text: (maxBytes) => wholeText((limit) => readPrefix(response, limit), maxBytes),
    excerpt: async (maxBytes = RESPONSE_EXCERPT_BYTES) => new TextDecoder().decode(await readPrefix(response, maxBytes)),
  };
}

/** The first `maxBytes` of a response body (all of a shorter one), read from its web stream. */
async function readPrefix(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
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
  return bytes;
}

import { connect, type Socket } from "node:net";

/** An ingest written by hand on its own connection (Node gateway only), for bodies sent part by part. */
export interface RawIngest {
  socket: Socket;
  write(text: string): void;
  /** The answer's status line, once it has come (or at once, if it has). */
  answer(): Promise<string>;
}

/**
 * Sends an ingest's head with `headers` and `Expect: 100-continue`, and resolves once the gateway has taken
 * the request in (its `100 Continue` says so), before any of the body is sent. Or with the answer, if the
 * gateway answered the head at once instead: `answer()` then gives it.
 */
export async function rawIngest(
  gw: { url: string },
  source: { id: string; secret: string },
  headers: Record<string, string>,
): Promise<RawIngest> {
  const socket = connect(Number(new URL(gw.url).port), "127.0.0.1");
  let received = "";
  let closed = false;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((look) => look());
  socket.on("data", (data) => ((received += data), wake()));
  socket.on("close", () => ((closed = true), wake()));
  // A reset is seen as the close that follows it.
  socket.on("error", () => {});
  const until = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const match = pattern.exec(received);
        if (match || closed) waiters.delete(look);
        if (match) resolve(match[0]);
        else if (closed) reject(new Error(`the connection closed without ${pattern}; received: ${received}`));
      };
      waiters.add(look);
      look();
    });
  const head = Object.entries({
    Host: "gateway",
    Authorization: `Bearer ${source.secret}`,
    "Content-Type": "application/json",
    Expect: "100-continue",
    ...headers,
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  const taken = until(/^HTTP\/1\.1 \d\d\d /);
  socket.write(`POST /ingest/${source.id} HTTP/1.1\r\n${head.join("")}\r\n`);
  await taken;
  return {
    socket,
    write: (text) => void socket.write(text),
    answer: () => until(/HTTP\/1\.1 [2-5]\d\d [^\r]*/),
  };
}

/** `text` as one chunk of a chunked body. */
export const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;

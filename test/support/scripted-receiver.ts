import type { IncomingHttpHeaders } from "node:http";

export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The request target as it arrived (path and query), byte for byte. */
  target: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Hold the response this long (to exercise timeouts). */
  delayMs?: number;
  /**
   * Send the status line, headers and body, then never end the response (`stall`) or close the connection
   * (`close`), with a `content-length` promising more than came.
   */
  breakOff?: "stall" | "close";
  /** Hold the response until this settles (in workerd, the test side holds the reply back from the hub). */
  until?: Promise<unknown>;
}

/**
 * What a test's HTTP endpoint does, whichever runtime the gateway runs on: records every request and
 * answers with scripted replies (then `handler`, then 200). `waitFor(n)` resolves once n requests arrived.
 */
export class ScriptedReceiver {
  readonly requests: Received[] = [];
  private replies: Reply[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  url = "";
  /** Computes a reply when none is scripted: a stand-in for an API that behaves like the real one. */
  handler: ((request: Received) => Reply) | undefined;

  /** The next requests get these replies, in order. */
  replyWith(...replies: Reply[]): void {
    this.replies.push(...replies);
  }

  waitFor(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Records a request and picks its reply. */
  protected answer(received: Received): Reply {
    this.requests.push(received);
    const reply = this.replies.shift() ?? this.handler?.(received) ?? {};
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.count ? (w.resolve(), false) : true));
    return reply;
  }
}

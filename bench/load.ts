import { Pool } from "undici";

/** One ingest request's outcome: when it was meant to start, when it was answered, and its status. */
export interface Sent {
  uniqueid: string;
  /** performance.now() when the request was due (open loop) or sent (closed loop). */
  startedAt: number;
  latencyMs: number;
  status: number;
}

export interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

/** A load generator over one undici Pool, so that client overhead is the same for every target. */
export class LoadGenerator {
  private readonly pool: Pool;

  constructor(
    private readonly target: Target,
    connections: number,
  ) {
    this.pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  /** Posts one event; a request that got no answer (a connection reset, say) has status 0. */
  private async post(payload: Record<string, unknown>, startedAt: number): Promise<Sent> {
    let status = 0;
    try {
      const { statusCode, body } = await this.pool.request({
        method: "POST",
        path: this.target.path,
        headers: { "content-type": "application/json", ...this.target.headers },
        body: JSON.stringify(payload),
      });
      await body.dump();
      status = statusCode;
    } catch {
      // No answer: counted by its status.
    }
    return { uniqueid: String(payload.uniqueid), startedAt, latencyMs: performance.now() - startedAt, status };
  }

  /** Closed loop: `concurrency` requests outstanding at all times until `events` are sent. */
  async closedLoop(events: Array<Record<string, unknown>>, concurrency: number): Promise<Sent[]> {
    const results: Sent[] = [];
    let next = 0;
    const worker = async () => {
      while (next < events.length) {
        const event = events[next++];
        results.push(await this.post(event, performance.now()));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return results;
  }

  /**
   * Open loop: request i is due at start + i / rate whatever the answers do, and its latency counts from
   * when it was due, so a stall shows in the figures instead of slowing the sender (coordinated omission).
   */
  async openLoop(events: Array<Record<string, unknown>>, perSecond: number): Promise<Sent[]> {
    const start = performance.now() + 20;
    const pending: Array<Promise<Sent>> = [];
    for (let i = 0; i < events.length; i += 1) {
      const dueAt = start + (i * 1000) / perSecond;
      const wait = dueAt - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      // A request sent a little early (wait <= 1 ms) counts from when it was sent, never below zero.
      pending.push(this.post(events[i], Math.min(dueAt, performance.now())));
    }
    return Promise.all(pending);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

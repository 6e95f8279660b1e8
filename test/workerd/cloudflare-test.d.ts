// The parts of workerd's test modules this suite uses, typed without pulling @cloudflare/workers-types'
// globals into the Node-typed project (they clash with the DOM lib).
declare module "cloudflare:workers" {
  export const env: Record<string, any>;
}

declare module "cloudflare:test" {
  export interface QueueResult {
    outcome: string;
    ackAll: boolean;
    retryBatch: { retry: boolean; delaySeconds?: number };
    explicitAcks: string[];
    retryMessages: Array<{ msgId: string; delaySeconds?: number }>;
  }
  export function createExecutionContext(): any;
  export function waitOnExecutionContext(ctx: any): Promise<void>;
  export function createMessageBatch<Body = unknown>(
    queueName: string,
    messages: Array<{ id: string; timestamp: Date; attempts: number; body: Body }>,
  ): any;
  export function getQueueResult(batch: any, ctx: any): Promise<QueueResult>;
  export function createScheduledController(options?: { scheduledTime?: number; cron?: string }): any;
  export function applyD1Migrations(db: unknown, migrations: unknown[], tableName?: string): Promise<void>;
  export function reset(): Promise<void>;
  /**
   * The `main` Worker (vitest config), in this isolate, as the runtime invokes it: each call its own invocation
   * (`queue` hands its handler one batch, as the queue does).
   */
  export const SELF: {
    fetch(input: Request | string, init?: RequestInit): Promise<Response>;
    queue(queueName: string, messages: Array<{ id: string; timestamp: Date; attempts: number; body: unknown }>): Promise<QueueResult>;
  };
}

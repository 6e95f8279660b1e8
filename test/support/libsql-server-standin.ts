import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Database from "libsql";

// A stand-in for a libSQL server (sqld, Turso), for want of one that installs from a package registry: the
// Hrana protocol over HTTP, version 2 with JSON (`POST /v2/pipeline`, what @libsql/client speaks to an
// `http://` or `libsql://` URL), its statements run on a real SQLite file through `libsql`. Only what the
// client sends is spoken: execute, batch (with step conditions), store_sql, close_sql, close. A test can make
// it go down (connections refused), cut each connection without a reply, or answer with an HTTP error, as a
// server that drops mid-run would, and bring it back.

type HranaValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

interface Stmt {
  sql?: string;
  sql_id?: number;
  args?: HranaValue[];
  named_args?: Array<{ name: string; value: HranaValue }>;
}

type Cond =
  | { type: "ok" | "error"; step: number }
  | { type: "not"; cond: Cond }
  | { type: "and" | "or"; conds: Cond[] }
  | { type: "is_autocommit" };

type Request =
  | { type: "execute"; stmt: Stmt }
  | { type: "batch"; batch: { steps: Array<{ condition?: Cond; stmt: Stmt }> } }
  | { type: "store_sql"; sql_id: number; sql: string }
  | { type: "close_sql"; sql_id: number }
  | { type: "close" };

/** How the stand-in fails, when it does. */
export type Failure = { kind: "down" } | { kind: "cut" } | { kind: "status"; status: number };

class HranaError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function valueOf(value: HranaValue): unknown {
  switch (value.type) {
    case "null":
      return null;
    case "integer": {
      const big = BigInt(value.value);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    case "float":
    case "text":
      return value.value;
    case "blob":
      return Buffer.from(value.base64, "base64");
  }
}

function hranaValue(value: unknown): HranaValue {
  if (value === null || value === undefined) return { type: "null" };
  if (typeof value === "bigint") return { type: "integer", value: String(value) };
  if (typeof value === "number") return Number.isInteger(value) ? { type: "integer", value: String(value) } : { type: "float", value };
  if (typeof value === "string") return { type: "text", value };
  return { type: "blob", base64: Buffer.from(value as Uint8Array).toString("base64") };
}

export class LibsqlServerStandIn {
  private readonly db: InstanceType<typeof Database>;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** SQL texts stored by the client, per stream (baton). */
  private readonly streams = new Map<string, Map<number, string>>();
  private batons = 0;
  private failure: Failure | null = null;
  port = 0;

  constructor(
    file: string,
    private readonly token?: string,
  ) {
    this.db = new Database(file);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Fails from now on as asked: down (the port closed, its connections dropped), cutting connections, or an HTTP error. */
  async fail(failure: Failure): Promise<void> {
    this.failure = failure;
    if (failure.kind === "down") await this.close();
  }

  /** Serves again, on the same port. */
  async recover(): Promise<void> {
    const wasDown = this.failure?.kind === "down";
    this.failure = null;
    if (wasDown) await this.start();
  }

  async stop(): Promise<void> {
    await this.close();
    this.db.close();
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.failure?.kind === "cut") return void req.socket.destroy();
    if (this.failure?.kind === "status") return void res.writeHead(this.failure.status, { "content-type": "text/plain" }).end("service unavailable");
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      return void res.writeHead(401, { "content-type": "text/plain" }).end("Unauthorized");
    }
    if (req.method !== "POST" || req.url !== "/v2/pipeline") return void res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { baton?: string | null; requests: Request[] };
    const baton = body.baton ?? `stream-${(this.batons += 1)}`;
    const sqls = this.streams.get(baton) ?? new Map<number, string>();
    this.streams.set(baton, sqls);
    let closed = false;
    const results = body.requests.map((request) => {
      try {
        if (request.type === "close") closed = true;
        return { type: "ok", response: this.run(request, sqls) };
      } catch (error) {
        return { type: "error", error: this.errorOf(error) };
      }
    });
    if (closed) this.streams.delete(baton);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ baton: closed ? null : baton, base_url: null, results }));
  }

  private run(request: Request, sqls: Map<number, string>): object {
    switch (request.type) {
      case "execute":
        return { type: "execute", result: this.execute(request.stmt, sqls) };
      case "batch":
        return { type: "batch", result: this.batch(request.batch.steps, sqls) };
      case "store_sql":
        sqls.set(request.sql_id, request.sql);
        return { type: "store_sql" };
      case "close_sql":
        sqls.delete(request.sql_id);
        return { type: "close_sql" };
      case "close":
        return { type: "close" };
    }
  }

  private batch(steps: Array<{ condition?: Cond; stmt: Stmt }>, sqls: Map<number, string>) {
    const outcomes: Array<"ok" | "error" | null> = [];
    const step_results: Array<object | null> = [];
    const step_errors: Array<object | null> = [];
    const holds = (cond: Cond): boolean => {
      switch (cond.type) {
        case "ok":
        case "error":
          return outcomes[cond.step] === cond.type;
        case "not":
          return !holds(cond.cond);
        case "and":
          return cond.conds.every(holds);
        case "or":
          return cond.conds.some(holds);
        case "is_autocommit":
          return !this.db.inTransaction;
      }
    };
    for (const { condition, stmt } of steps) {
      let result: object | null = null;
      let error: object | null = null;
      if (!condition || holds(condition)) {
        try {
          result = this.execute(stmt, sqls);
        } catch (failure) {
          error = this.errorOf(failure);
        }
      }
      outcomes.push(result ? "ok" : error ? "error" : null);
      step_results.push(result);
      step_errors.push(error);
    }
    return { step_results, step_errors };
  }

  private execute(stmt: Stmt, sqls: Map<number, string>) {
    const sql = stmt.sql ?? sqls.get(stmt.sql_id!);
    if (sql === undefined) throw new HranaError(`no SQL text stored as ${stmt.sql_id}`, "SQL_NOT_FOUND");
    const named = Object.fromEntries((stmt.named_args ?? []).map(({ name, value }) => [name.replace(/^[:@$]/, ""), valueOf(value)]));
    const args = stmt.named_args?.length ? named : (stmt.args ?? []).map(valueOf);
    const query = this.db.prepare(sql);
    if (query.reader) {
      const cols = query.columns().map((column: { name: string; type: string | null }) => ({ name: column.name, decltype: column.type }));
      const rows = (query.raw(true).all(args) as unknown[][]).map((row) => row.map(hranaValue));
      return { cols, rows, affected_row_count: 0, last_insert_rowid: null };
    }
    const info = query.run(args);
    return { cols: [], rows: [], affected_row_count: info.changes, last_insert_rowid: String(info.lastInsertRowid) };
  }

  private errorOf(error: unknown): { message: string; code: string } {
    if (error instanceof HranaError) return { message: error.message, code: error.code };
    const { message, code } = error as { message: string; code?: string };
    return { message, code: code ?? "UNKNOWN" };
  }
}

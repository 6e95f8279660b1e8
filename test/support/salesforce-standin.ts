import { Receiver, type Received, type Reply } from "./receiver.js";

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

const TASK_STATUSES = ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"];

/** Task text fields and their documented length limits (Salesforce's Task object reference). */
const TASK_TEXT_LIMITS: Record<string, number> = { Subject: 255, CallObject: 255, CallDisposition: 255 };

/**
 * A local server that answers like Salesforce's REST API as documented: the OAuth 2.0 token endpoint
 * (client credentials and refresh token), SOSL search, Task creation, and the documented error bodies
 * (INVALID_SESSION_ID, REQUEST_LIMIT_EXCEEDED, restricted picklist, STRING_TOO_LONG).
 */
export class SalesforceStandIn {
  readonly receiver = new Receiver();
  readonly clientId = "3MVG9-connected-app";
  readonly clientSecret = "sf-consumer-secret-8d1f2a";
  readonly refreshToken = "5Aep861-refresh-token";
  /** Phones of the org's Contacts and Leads. */
  readonly contacts = new Map<string, string>([["+15551234567", "0035g00000AbCdEAAA"]]);
  readonly leads = new Map<string, string>([["+15550000001", "00Q5g00000XyZwVUAA"]]);
  limitExceeded = false;
  /** Searches answer this instead (a proxy's error page, say) when set. */
  searchReply: Reply | undefined;
  /** Token replies wait until this settles, as from a slow token endpoint. */
  tokenHold: Promise<unknown> | undefined;
  private valid = new Set<string>();
  private issued = 0;

  get url(): string {
    return this.receiver.url;
  }

  async start(): Promise<this> {
    await this.receiver.start();
    this.receiver.handler = (request) => this.handle(request);
    return this;
  }

  stop(): Promise<void> {
    return this.receiver.stop();
  }

  /** Every session issued so far stops working, as when an admin revokes them or they time out. */
  expireSessions(): void {
    this.valid.clear();
  }

  requestsTo(path: string): Received[] {
    return this.receiver.requests.filter((r) => r.path.startsWith(path));
  }

  /** Resolves once `count` token requests have come in. */
  async tokenRequests(count: number): Promise<void> {
    for (let seen = 1; this.requestsTo("/services/oauth2/token").length < count; seen++) await this.receiver.waitFor(seen);
  }

  private handle(request: Received): Reply {
    if (request.path === "/services/oauth2/token" && request.method === "POST") return { ...this.token(request), until: this.tokenHold };
    const auth = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ""));
    if (!auth || !this.valid.has(auth[1])) {
      return json(401, [{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }]);
    }
    const api = /^\/services\/data\/v(\d+\.\d)\/(.+)$/.exec(request.path);
    if (!api) return json(404, [{ message: "The requested resource does not exist", errorCode: "NOT_FOUND" }]);
    if (this.limitExceeded) {
      return json(403, [{ message: "TotalRequests Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" }]);
    }
    if (api[2] === "search/" && request.method === "GET") return this.search(request.query.get("q") ?? "");
    if (api[2] === "sobjects/Task" && request.method === "POST") return this.createTask(request.body);
    return json(404, [{ message: "The requested resource does not exist", errorCode: "NOT_FOUND" }]);
  }

  private token(request: Received): Reply {
    const form = new URLSearchParams(request.body);
    if (form.get("client_id") !== this.clientId || form.get("client_secret") !== this.clientSecret) {
      return json(400, { error: "invalid_client", error_description: "invalid client credentials" });
    }
    const grant = form.get("grant_type");
    if (grant === "refresh_token" && form.get("refresh_token") !== this.refreshToken) {
      return json(400, { error: "invalid_grant", error_description: "expired access/refresh token" });
    }
    if (grant !== "refresh_token" && grant !== "client_credentials") {
      return json(400, { error: "unsupported_grant_type", error_description: "grant type not supported" });
    }
    this.issued += 1;
    const token = `00D5g000004SfAb!AQ4AQ.session-${this.issued}`;
    this.valid.add(token);
    return json(200, {
      access_token: token,
      instance_url: this.url,
      id: `${this.url}/id/00D5g000004SfAbEAK/0055g00000AbCdEAAA`,
      token_type: "Bearer",
      issued_at: String(Date.now()),
      signature: "c2lnbmF0dXJl",
    });
  }

  private search(sosl: string): Reply {
    if (this.searchReply) return this.searchReply;
    const match = /^FIND \{(.*)\} IN PHONE FIELDS RETURNING Contact\(Id\), Lead\(Id\)$/.exec(sosl);
    if (!match) return json(400, [{ message: "unexpected token", errorCode: "MALFORMED_SEARCH" }]);
    const phone = match[1].replace(/\\(.)/g, "$1");
    const records = [
      ...(this.contacts.has(phone) ? [{ attributes: { type: "Contact" }, Id: this.contacts.get(phone) }] : []),
      ...(this.leads.has(phone) ? [{ attributes: { type: "Lead" }, Id: this.leads.get(phone) }] : []),
    ];
    return json(200, { searchRecords: records });
  }

  private createTask(body: string): Reply {
    let task: Record<string, unknown>;
    try {
      task = JSON.parse(body);
    } catch {
      return json(400, [{ message: "Unexpected character", errorCode: "JSON_PARSER_ERROR" }]);
    }
    if (!TASK_STATUSES.includes(String(task.Status))) {
      return json(400, [
        {
          message: `Status: bad value for restricted picklist field: ${task.Status}`,
          errorCode: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
          fields: ["Status"],
        },
      ]);
    }
    // Counted in UTF-16 code units, an emoji as two: the stricter of the ways a length can be read.
    const tooLong = Object.entries(TASK_TEXT_LIMITS).find(([field, max]) => typeof task[field] === "string" && (task[field] as string).length > max);
    if (tooLong) {
      const [field, max] = tooLong;
      return json(400, [
        { message: `${field}: data value too large: ${task[field]} (max length=${max})`, errorCode: "STRING_TOO_LONG", fields: [field] },
      ]);
    }
    if (!Number.isInteger(task.CallDurationInSeconds)) {
      return json(400, [{ message: "Cannot deserialize CallDurationInSeconds", errorCode: "JSON_PARSER_ERROR" }]);
    }
    return json(201, { id: "00T5g00000TaSkAAA", success: true, errors: [] }, { "sforce-limit-info": "api-usage=18/15000" });
  }
}

import type { CallState, NormalizedEvent, SourceKind } from "../domain/event.js";

/** An inbound PBX request, with the raw bytes its signature covers. */
export interface InboundRequest {
  headers: Headers;
  body: Uint8Array;
  /** Query parameters of the ingest URL: some PBXs can configure only a URL (VoIPAppz). */
  query: Record<string, string>;
}

export interface NormalizeContext {
  receivedAt: string;
  query: Record<string, string>;
  /** The stored state of the calls named by `callIds(payload)`, by uniqueid. */
  calls: ReadonlyMap<string, CallState>;
}

/** One PBX: how its requests are authenticated and how its payloads become canonical call facts. Pure. */
export interface SourceAdapter {
  kind: SourceKind;
  /** The PBX cannot set a Content-Type: accept any, as long as the body is JSON. */
  anyContentType?: boolean;
  /** True when the request proves it knows the source's secret. */
  verify(request: InboundRequest, secret: string): Promise<boolean>;
  /** How a request proves it, for the 401 that says so. */
  proof: string;
  /** The calls whose stored state `normalize` needs (for adapters that keep per-call state). */
  callIds?(payload: unknown): string[];
  /**
   * The payload as canonical events; an event type the adapter does not know becomes `unmapped` (stored,
   * never delivered). An event may carry the new state of its call in `call_state`. Throws a 400
   * GatewayError naming each invalid field.
   */
  normalize(payload: unknown, context: NormalizeContext): NormalizedEvent[];
}

import type { NormalizedEvent, SourceKind } from "../domain/event.js";

/** An inbound PBX request, with the raw bytes its signature covers. */
export interface InboundRequest {
  headers: Headers;
  body: Uint8Array;
}

/** One PBX: how its requests are authenticated and how its payloads become canonical call facts. Pure. */
export interface SourceAdapter {
  kind: SourceKind;
  /** True when the request proves it knows the source's secret. */
  verify(request: InboundRequest, secret: string): Promise<boolean>;
  /**
   * The payload as canonical events; an event type the adapter does not know becomes `unmapped` (stored,
   * never delivered). Throws a 400 GatewayError naming each invalid field.
   */
  normalize(payload: unknown, receivedAt: string): NormalizedEvent[];
}

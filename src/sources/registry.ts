import type { SourceKind } from "../domain/event.js";
import type { SourceAdapter } from "./adapter.js";
import { canonicalSource } from "./canonical.js";

/** The adapters by source kind; a kind without one cannot be configured yet. */
const ADAPTERS: Partial<Record<SourceKind, SourceAdapter>> = {
  canonical: canonicalSource,
};

export function adapterFor(kind: SourceKind): SourceAdapter | undefined {
  return ADAPTERS[kind];
}

export function supportedKinds(): SourceKind[] {
  return Object.keys(ADAPTERS) as SourceKind[];
}

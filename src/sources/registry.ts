import type { SourceKind } from "../domain/event.js";
import type { SourceAdapter } from "./adapter.js";
import { canonicalSource } from "./canonical.js";
import { voipappzSource } from "./voipappz.js";
import { voipcloudSource } from "./voipcloud.js";
import { wildixSource } from "./wildix.js";

/** The adapter of each source kind. */
const ADAPTERS: Record<SourceKind, SourceAdapter> = {
  canonical: canonicalSource,
  wildix: wildixSource,
  voipcloud: voipcloudSource,
  voipappz: voipappzSource,
};

export function adapterFor(kind: SourceKind): SourceAdapter {
  return ADAPTERS[kind];
}

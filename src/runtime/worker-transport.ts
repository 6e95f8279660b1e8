import { BlockedDestinationError, urlRefusal, type OutboundAllow } from "../delivery/address-policy.js";
import { replyOf, type Transport } from "../delivery/transport.js";

/**
 * Outbound HTTP on Workers: `fetch`, which takes no resolver, so the guard checks what the URL itself
 * shows (IP literals, localhost); Cloudflare refuses private and internal destinations of a Worker's fetch.
 */
export function createWorkerTransport(allow: OutboundAllow): Transport {
  return {
    async fetch(url, init) {
      const refusal = urlRefusal(url, allow);
      if (refusal) throw new BlockedDestinationError(refusal);
      return replyOf(await fetch(url, { ...init, redirect: "manual" }));
    },
  };
}

import { hmacSha256, toHex } from "../domain/crypto.js";
import { withHeaders } from "../delivery/attempt-headers.js";
import type { PresetAuth } from "./send-hooks.js";

/** VoIP Cloud verifies `ms-signature: sha256=<hex HMAC-SHA256 of the body>`, keyed by the shared secret. */
export const voipcloudAuth: PresetAuth = {
  async prepare(request, { config }) {
    const signature = toHex(await hmacSha256(String(config.signing_secret ?? ""), request.body ?? ""));
    return { request: { ...request, headers: withHeaders(request.headers, { "ms-signature": `sha256=${signature}` }) }, notes: [] };
  },
  previewHeaders: { "ms-signature": "sha256=****" },
};

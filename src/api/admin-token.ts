import { sha256Hex, timingSafeEqual } from "../domain/crypto.js";
import { newSecret } from "../domain/ids.js";
import type { Store } from "../store/index.js";

const SETTING = "admin_token_sha256";

export interface AdminAuth {
  verify(token: string): Promise<boolean>;
}

/**
 * The admin token: `ADMIN_TOKEN` when configured; otherwise the one generated on first start, of which
 * only the hash is stored. `generated` is a new token, to be shown once; `keep()` stores it, once the gateway
 * is up to show it: a first start that fails before (a port taken) keeps none, and the next start makes one.
 */
export async function resolveAdminAuth(
  store: Store,
  configured: string | undefined,
): Promise<{ auth: AdminAuth; generated: string | null; keep(): Promise<void> }> {
  if (configured) return { auth: authByHash(await sha256Hex(configured)), generated: null, keep: async () => {} };
  const generated = (await store.settings.get(SETTING)) ? null : newSecret("adm_");
  const keep = async () => {
    if (generated) await store.settings.set(SETTING, await sha256Hex(generated));
  };
  return { auth: storedTokenAuth(store), generated, keep };
}

/** Accepts the one token whose SHA-256 is `hash`, compared in constant time. */
function authByHash(hash: string): AdminAuth {
  return { verify: async (token) => timingSafeEqual(await sha256Hex(token), hash) };
}

/** The stored token, looked up at each check: `npm run admin-token` replaces it in a running gateway too. */
function storedTokenAuth(store: Pick<Store, "settings">): AdminAuth {
  return {
    async verify(token) {
      const hash = await store.settings.get(SETTING);
      return hash !== null && timingSafeEqual(await sha256Hex(token), hash);
    },
  };
}

/** A fixed configured token (`METRICS_TOKEN`), or null when none is set and the route is open. */
export async function optionalTokenAuth(token: string | undefined): Promise<AdminAuth | null> {
  return token ? authByHash(await sha256Hex(token)) : null;
}

/** Replaces the stored admin token with a new one and returns it (for `npm run admin-token`). */
export async function rotateAdminToken(store: Pick<Store, "settings">): Promise<string> {
  const token = newSecret("adm_");
  await store.settings.set(SETTING, await sha256Hex(token));
  return token;
}

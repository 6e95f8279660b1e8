import type { Preset } from "./schema.js";
import { salesforceAuth } from "./salesforce.js";
import type { PresetAuth } from "./send-hooks.js";
import { tradersoftAuth } from "./tradersoft.js";
import { voipcloudAuth } from "./voipcloud.js";

/** Each preset's behaviour around an attempt, by the `auth` its definition names. */
const AUTH: Record<Preset["auth"], PresetAuth> = {
  none: {},
  salesforce: salesforceAuth,
  tradersoft: tradersoftAuth,
  voipcloud: voipcloudAuth,
};

export function authOf(preset: Preset | undefined): PresetAuth {
  return preset ? AUTH[preset.auth] : AUTH.none;
}

import salesforce from "../../presets/salesforce.json";
import tradersoft from "../../presets/tradersoft.json";
import voipcloud from "../../presets/voipcloud.json";
import { presetSchema, type Preset } from "./schema.js";

// Presets are data; imported (not read from disk) so that the Workers bundle carries them too. Validated
// once at start-up: a broken preset file stops the gateway with the reason rather than misbehaving later.
const PRESETS: ReadonlyMap<string, Preset> = new Map(
  [salesforce, tradersoft, voipcloud].map((data) => {
    const preset = presetSchema.parse(data);
    return [preset.id, preset];
  }),
);

export function presetById(id: string): Preset | undefined {
  return PRESETS.get(id);
}

export function allPresets(): Preset[] {
  return [...PRESETS.values()];
}

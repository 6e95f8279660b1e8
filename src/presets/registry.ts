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

/** The preset of that id; undefined for none (a custom rule's null) or an unknown id. */
export function presetById(id: string | null | undefined): Preset | undefined {
  return id ? PRESETS.get(id) : undefined;
}

export function allPresets(): Preset[] {
  return [...PRESETS.values()];
}

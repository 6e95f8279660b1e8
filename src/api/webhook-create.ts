import { z } from "zod";
import { createWebhookSchema, patchWebhookSchema } from "../domain/webhook.js";
import { allPresets } from "../presets/registry.js";

const PRESET_IDS = allPresets().map((preset) => preset.id) as [string, ...string[]];

/** A `preset` that is none of the shipped ones: say which there are. */
function unknownPreset(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== "invalid_union") return undefined;
  const given = (issue.input as { preset?: unknown } | undefined)?.preset;
  return `no preset ${JSON.stringify(given)}; one of ${PRESET_IDS.join(", ")}`;
}

/**
 * The body of `POST /api/webhooks`, which both validates it and documents it in /openapi.json. A custom rule
 * (no `preset`) names its events and URL; a preset rule need not, since the preset fills them in (with its
 * payload and more), and any field it gives overrides the preset's.
 */
export const createWebhookRequestSchema = z.discriminatedUnion(
  "preset",
  [
    createWebhookSchema.safeExtend({ preset: z.null().optional() }),
    patchWebhookSchema.required({ name: true }).safeExtend({ preset: z.enum(PRESET_IDS) }),
  ],
  { error: unknownPreset },
);

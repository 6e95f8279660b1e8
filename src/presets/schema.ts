import { z } from "zod";
import { eventTypeSchema } from "../domain/event.js";
import { webhookFieldsSchema } from "../domain/webhook.js";

/** One setting a preset asks for (`preset_config`): shown in the console, validated on save, masked if secret. */
const presetFieldSchema = z
  .object({
    label: z.string(),
    description: z.string(),
    type: z.enum(["string", "url", "boolean", "time_zone"]).default("string"),
    secret: z.boolean().default(false),
    required: z.boolean().default(false),
    default: z.union([z.string(), z.boolean()]).optional(),
    example: z.string().optional(),
    /** A regular expression a string setting must match, shown by its `example` when it does not. */
    pattern: z.string().optional(),
    /** What is said of a value that does not match `pattern`, when its example alone would not say why. */
    mismatch: z.string().optional(),
  })
  .strict()
  .refine((field) => field.pattern === undefined || (field.example !== undefined && new RegExp(field.pattern).test(field.example)), {
    message: "a pattern needs an example that matches it",
  });

/**
 * A CRM preset, as data in `presets/<id>.json`: what it needs, the rule it fills in (any field of which the
 * integrator may override) and the per-attempt behaviour (`auth`) the CRM's API calls for.
 */
export const presetSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    name: z.string(),
    description: z.string(),
    docs: z.string().optional(),
    // `header` names the placeholder of a rule's credential header (delivery/credential-headers.ts), which a
    // secret setting of that name would be filled in with.
    config: z.record(z.string().regex(/^(?!header$)[a-z][a-z0-9_]*$/), presetFieldSchema),
    webhook: webhookFieldsSchema.omit({ name: true, preset: true, preset_config: true, secret: true }).extend({
      events: z.array(eventTypeSchema).min(1),
    }),
    /** Templates rendered with the request but not sent: facts the preset's auth needs at send time. */
    meta: z.record(z.string(), z.string()).default({}),
    /**
     * The CRM's documented length limits of the JSON body's members, in characters: a longer rendered text is
     * cut to its limit (whatever template the rule uses), rather than have the CRM refuse the whole record.
     */
    text_limits: z.record(z.string(), z.number().int().positive()).default({}),
    auth: z.enum(["none", "salesforce", "tradersoft", "voipcloud"]),
  })
  .strict();

export type PresetField = z.output<typeof presetFieldSchema>;
export type Preset = z.output<typeof presetSchema>;

import { z } from "zod";
import { sourceKindSchema } from "./event.js";

const secret = z.string().min(8).max(500);

export const createSourceSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: sourceKindSchema,
    /** Wildix and VoIPcloud generate their own secret, which the integrator pastes in; otherwise one is generated. */
    secret: secret.optional(),
    enabled: z.boolean().default(true),
  })
  .strict();

export const patchSourceSchema = z
  .object({ name: z.string().trim().min(1).max(200), secret, enabled: z.boolean() })
  .partial()
  .strict();


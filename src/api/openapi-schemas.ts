import { z } from "zod";
import { canonicalEventSchema } from "../domain/event.js";
import { presetSchema } from "../presets/schema.js";
import { sampleEventSchema } from "../sources/samples.js";
import {
  acceptedBatchSchema,
  acceptedViewSchema,
  attemptViewSchema,
  deliveryDetailSchema,
  deliveryViewSchema,
  errorBodySchema,
  eventDetailSchema,
  eventSummarySchema,
  healthySchema,
  listSchema,
  previewViewSchema,
  recoverViewSchema,
  replayViewSchema,
  requestViewSchema,
  sourceViewSchema,
  unhealthySchema,
  webhookViewSchema,
} from "./view-schemas.js";

// The JSON Schemas of /openapi.json (2020-12, the dialect of OpenAPI 3.1), generated from zod schemas: a request
// body's or query's from the schema its route validates with (zod's input side), a response body's from the schema
// whose type the code that builds it has (view-schemas.ts; zod's output side). So the document cannot drift from
// what the gateway accepts and answers.

export type JsonSchema = Record<string, unknown>;

/** The JSON Schema of what a request may send for this zod schema. */
export function requestSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12" });
  return rest;
}

/** Query parameters, one per property of a zod object schema. */
export function queryParameters(...schemas: z.ZodType[]) {
  return schemas.flatMap((schema) => {
    const { properties = {} } = requestSchema(schema) as { properties?: Record<string, JsonSchema> };
    return Object.entries(properties).map(([name, property]) => ({ name, in: "query", required: false, schema: property }));
  });
}

/**
 * The response bodies, by their name in `components.schemas`. One nested in another (a Delivery in an
 * EventDetail) is a `$ref` to its own entry.
 */
const RESPONSE_BODIES = {
  Error: errorBodySchema,
  Source: sourceViewSchema,
  SourceList: listSchema(sourceViewSchema),
  Webhook: webhookViewSchema,
  WebhookList: listSchema(webhookViewSchema),
  Preview: previewViewSchema,
  Preset: presetSchema,
  PresetList: listSchema(presetSchema),
  CanonicalEvent: canonicalEventSchema,
  Sample: sampleEventSchema,
  SampleList: listSchema(sampleEventSchema),
  Event: eventSummarySchema,
  EventDetail: eventDetailSchema,
  EventList: listSchema(eventSummarySchema),
  Request: requestViewSchema,
  Attempt: attemptViewSchema,
  Delivery: deliveryViewSchema,
  DeliveryDetail: deliveryDetailSchema,
  DeliveryList: listSchema(deliveryViewSchema),
  Recovered: recoverViewSchema,
  Replayed: replayViewSchema,
  Accepted: acceptedViewSchema,
  AcceptedBatch: acceptedBatchSchema,
  Health: healthySchema,
  HealthUnavailable: unhealthySchema,
};
export type BodyName = keyof typeof RESPONSE_BODIES;

/**
 * A response schema open to fields added later: zod's output side closes every object (`additionalProperties:
 * false`), which would make a client that validates answers break on the next version's new field.
 */
function openToNewFields(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openToNewFields);
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node).filter(([key, value]) => !(key === "additionalProperties" && value === false));
  return Object.fromEntries(entries.map(([key, value]) => [key, openToNewFields(value)]));
}

/** `components.schemas`: the JSON Schema of what each response body is. */
export function responseSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSE_BODIES)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io: "output", target: "draft-2020-12", uri: (id) => `#/components/schemas/${id}` });
  // Each comes out as a document of its own; in the OpenAPI document it is a part, named by its key.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, openToNewFields(schema) as JsonSchema]),
  );
}

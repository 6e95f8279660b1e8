import { expect } from "vitest";
import { callEvent } from "./events.js";
import { deliveriesOf, ingest, type GatewayUnderTest } from "./gateway-api.js";

/** Ingests one event (a new call unless given), expects it accepted, waits until the gateway is done with it; its event id. */
export async function ingestAndSettle(
  gw: Pick<GatewayUnderTest, "send" | "settle">,
  source: { id: string; secret: string },
  event: Record<string, unknown> = callEvent(),
): Promise<string> {
  const answer = await ingest(gw, source, event);
  expect(answer.status).toBe(202);
  await gw.settle();
  return answer.body.event_id as string;
}

/** The delivery `rule` made of one event (a new call unless given), once it is as far as its attempts go for now. */
export async function deliveryOfNew(
  gw: GatewayUnderTest,
  source: { id: string; secret: string },
  rule: { id: string },
  event: Record<string, unknown> = callEvent(),
): Promise<any> {
  const eventId = await ingestAndSettle(gw, source, event);
  return (await deliveriesOf(gw, eventId)).find((d) => d.webhook_id === rule.id);
}

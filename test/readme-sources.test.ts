import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSource, createWebhook, startGateway, type TestGateway } from "./support/gateway.js";
import { runShell, tryASourceCommands } from "./support/readme.js";
import { Receiver } from "./support/receiver.js";

// The README's way to try each source before its PBX is set up: its shell lines run as written (curl and
// openssl, from the project's root) against a gateway, one source of each kind.

let gw: TestGateway;
let receiver: Receiver;
const commands = tryASourceCommands();

/** What the command prints: the gateway's JSON answer. */
async function post(kind: string, source: { id: string; secret: string }, command = commands[kind]) {
  return JSON.parse(await runShell(command, { GW: gw.url, SRC: source.id, SECRET: source.secret }));
}

beforeAll(async () => {
  gw = await startGateway();
  receiver = await new Receiver().start();
  await createWebhook(gw, { url: `${receiver.url}/calls` });
});
afterAll(async () => {
  await gw.stop();
  await receiver.stop();
});

describe("README: trying a source without its PBX", () => {
  it("has one command per PBX that the gateway takes, with its proof, as a new event", async () => {
    expect(Object.keys(commands)).toEqual(["Wildix", "VoIPcloud", "VoIPAppz"]);
    const sources = {
      Wildix: await createSource(gw, "Wildix", "wildix", "wildix-integration-secret-5f0c"),
      VoIPcloud: await createSource(gw, "VoIPcloud", "voipcloud", "voipcloud-token-8c21"),
      VoIPAppz: await createSource(gw, "VoIPAppz", "voipappz"),
    };
    const events: Record<string, string> = {};
    for (const [kind, source] of Object.entries(sources)) {
      const answer = await post(kind, source);
      expect(answer, kind).toMatchObject({ event_id: expect.stringMatching(/^evt_/), deliveries: 1 });
      expect((await gw.api("GET", `/api/events/${answer.event_id}`)).body.type, kind).toBe("call.end");
      events[kind] = answer.event_id;
    }
    await gw.settle();
    expect(receiver.requests).toHaveLength(3);

    // Sent again, the same file is the same event, and nothing more is sent; with -d for --data-binary, the bytes
    // signed are not those sent.
    expect(await post("Wildix", sources.Wildix)).toMatchObject({ event_id: events.Wildix, duplicate: true });
    await gw.settle();
    expect(receiver.requests).toHaveLength(3);
    const curlD = commands.Wildix.replace("--data-binary", "-d");
    expect(await post("Wildix", sources.Wildix, curlD)).toMatchObject({ error: { code: "unauthorized" } });
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startGateway, type TestGateway } from "./support/gateway.js";
import { runShell, sectionShellBlocks, tryASourceCommands } from "./support/readme.js";
import { SalesforceStandIn } from "./support/salesforce-standin.js";

// The README's walkthrough, Wildix to Salesforce: its shell lines run as written (bash and curl, from the
// project's root) against a gateway, a Salesforce stand-in being the org. The lines that set a variable are
// the reader's to fill in: with their own values, or with an id from the answer just above.

/** A line setting a variable: `NAME=value  # what it is`. */
const ASSIGNMENT = /^([A-Z_]+)=(\S*)(?:\s+#.*)?$/;
/** The value of an assignment that stands for the id in the answer above: `wh_01K...`. */
const ANSWERED_ID = /^([a-z]+_)01K\.\.\.$/;

let gw: TestGateway;
let sf: SalesforceStandIn;

beforeAll(async () => {
  gw = await startGateway();
  sf = await new SalesforceStandIn().start();
});
afterAll(async () => {
  await gw.stop();
  await sf.stop();
});

/**
 * Runs the walkthrough's blocks as a reader does, one command after another, each once the gateway has done
 * what the one before started; returns each command's JSON answer and the variables it ended with.
 */
async function walkThrough(yours: Record<string, string>) {
  const vars: Record<string, string> = {};
  const answers: { command: string; answer: any }[] = [];
  let command: string[] = [];
  const run = async () => {
    if (!command.some((line) => line.trim() && !line.startsWith("#"))) return;
    await gw.settle();
    const script = command.join("\n");
    answers.push({ command: script, answer: JSON.parse(await runShell(script, vars)) });
    command = [];
  };
  for (const block of sectionShellBlocks("Set up an integration: Wildix to Salesforce")) {
    for (const line of block.split("\n")) {
      const assignment = ASSIGNMENT.exec(line);
      if (!assignment) {
        command.push(line);
        continue;
      }
      await run();
      const [, name, value] = assignment;
      const idPrefix = ANSWERED_ID.exec(value)?.[1];
      if (idPrefix) {
        const id = answers.at(-1)?.answer.id;
        expect(id, `${name}: the id in the answer above`).toMatch(new RegExp(`^${idPrefix}`));
        vars[name] = id;
      } else {
        expect(yours, `${name}: a value of the reader's`).toHaveProperty(name);
        vars[name] = yours[name];
      }
    }
    await run();
  }
  return { answers: answers.map((a) => a.answer), vars };
}

describe("README: setting up an integration, Wildix to Salesforce", () => {
  it("creates the source and the preset's rule, previews it, and a test event files a Task linked to the caller", async () => {
    const wildixSecret = "wildix-integration-secret-3e9a";
    const { answers, vars } = await walkThrough({
      TOKEN: ADMIN_TOKEN,
      GW: gw.url,
      WILDIX_SECRET: wildixSecret,
      SF_URL: sf.url,
      SF_CLIENT_ID: sf.clientId,
      SF_CLIENT_SECRET: sf.clientSecret,
    });
    const [source, rule, preview, test, delivery] = answers;
    expect(answers).toHaveLength(5);

    expect(source).toMatchObject({ kind: "wildix", secret: wildixSecret, ingest_url: `${gw.url}/ingest/${source.id}` });
    expect(rule).toMatchObject({ preset: "salesforce", events: ["call.end"], preset_config: { instance_url: sf.url, client_secret: "****1f2a" } });

    expect(preview).toMatchObject({ matches: true, method: "POST", url: `${sf.url}/services/data/v66.0/sobjects/Task`, meta: { caller_phone: "+15551234567" } });
    const previewed = JSON.parse(preview.body);
    expect(previewed).toMatchObject({ Subject: "Inbound call from Jane Customer", CallType: "Inbound", Status: "Completed" });

    expect(test).toMatchObject({ id: vars.DLV, webhook_id: vars.WH });
    expect(delivery).toMatchObject({ id: vars.DLV, status: "delivered" });
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({
      status_code: 201,
      note: "access token fetched; WhoId 0035g00000AbCdEAAA (Contact with phone +15551234567)",
    });
    // What the org got: the previewed Task, linked to the Contact with the caller's phone.
    const tasks = sf.requestsTo("/services/data/v66.0/sobjects/Task");
    expect(tasks).toHaveLength(1);
    expect(JSON.parse(tasks[0].body)).toEqual({ WhoId: "0035g00000AbCdEAAA", ...previewed });

    // Before the PBX is set up: its own payload, posted as the try-a-source line says, goes through the rule.
    const posted = JSON.parse(await runShell(tryASourceCommands().Wildix, { GW: gw.url, SRC: source.id, SECRET: vars.WILDIX_SECRET }));
    expect(posted).toMatchObject({ event_id: expect.stringMatching(/^evt_/), deliveries: 1 });
    await gw.settle();
    expect(sf.requestsTo("/services/data/v66.0/sobjects/Task")).toHaveLength(2);
    const { body: event } = await gw.api("GET", `/api/events/${posted.event_id}`);
    expect(event.deliveries).toMatchObject([{ webhook_id: vars.WH, status: "delivered" }]);
  });
});

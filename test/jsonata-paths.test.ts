import jsonata from "jsonata";
import { describe, expect, it } from "vitest";
import { evaluateExpression } from "../src/render/jsonata.js";

// Plain paths (`agent.extension`) are looked up without running JSONata's evaluator: the answer must be
// JSONata's own for every shape of data, including the ones the lookup leaves to JSONata.

const context = {
  uniqueid: "1700000000.1",
  src: "+441234567890",
  bill_duration: 0,
  answered: false,
  empty: "",
  nothing: null,
  agent: { extension: "201", name: "Alice", team: { lead: "Bob", size: 3, flags: null } },
  agents: [{ extension: "201" }, { extension: "202" }],
  tags: ["a", "b"],
  single: ["only"],
  nested: { list: [{ id: 1 }, { id: 2 }], obj: { deep: { deeper: "yes" } } },
  text: "a string",
  number: 12.5,
  raw: { Event: "Hangup", "with-dash": "x", constructor: "own" },
};

const PATHS = [
  "uniqueid",
  "src",
  "bill_duration",
  "answered",
  "empty",
  "nothing",
  "missing",
  "agent",
  "agent.extension",
  "agent.team.lead",
  "agent.team.size",
  "agent.team.flags",
  "agent.team.missing",
  "agent.missing.deeper",
  "agents",
  "agents.extension",
  "tags",
  "single",
  "nested.list.id",
  "nested.obj.deep.deeper",
  "nested.obj",
  "text.length",
  "text.missing",
  "number.value",
  "nothing.below",
  "raw.Event",
  "raw.constructor",
  "constructor",
  "toString",
  "__proto__",
  "agent.hasOwnProperty",
  " uniqueid ",
  "true",
  "null",
  "uniqueid and src",
];

/** A value as a request carries it: JSONata's sequences differ from run to run only in hidden markers. */
const sent = (value: unknown) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

describe("plain paths", () => {
  it.each(PATHS)("%s gives what JSONata gives", async (path) => {
    const expected = await jsonata(path).evaluate(context);
    expect(sent(await evaluateExpression(path, context))).toStrictEqual(sent(expected));
  });

  it("keep JSONata's answer for the same path over data of another shape", async () => {
    const shapes = [{ agent: [{ extension: "1" }, { extension: "2" }] }, { agent: "text" }, { agent: null }, { agent: { extension: { a: 1 } } }, {}];
    for (const data of shapes) {
      expect(sent(await evaluateExpression("agent.extension", data))).toStrictEqual(sent(await jsonata("agent.extension").evaluate(data)));
    }
  });
});

import { afterEach, beforeEach } from "vitest";
import { createSource, startGateway, type GatewayUnderTest, type TestGateway } from "./gateway.js";
import { Receiver } from "./receiver.js";
import type { ScriptedReceiver } from "./scripted-receiver.js";

/** What each test gets from `gatewayPerTest`, fresh: set before the test, stopped after it. */
export interface GatewayPerTest<G extends GatewayUnderTest = TestGateway, R extends ScriptedReceiver = Receiver> {
  /** The gateway; a test that restarts it assigns the new one here, and that one is stopped. */
  gw: G;
  /** A real HTTP receiver on loopback, for rules to deliver to. */
  receiver: R;
  /** A source on the gateway (unless `source: false`). */
  source: { id: string; secret: string };
}

/**
 * Before each test of the scope it is called in (a file, or a describe block): a gateway, a receiver and a
 * source; after the test, the gateway and the receiver stopped. A file's own beforeEach registered before this
 * call runs before the gateway starts; an afterEach registered after it runs before they stop (vitest runs
 * after-hooks in reverse). In workerd, shared test files get the Worker harness and the receiver hub's
 * receivers here (the aliases in test/workerd/vitest.config.ts); workerd's own files pass `start` and
 * `receiver` from there, for their types.
 */
export function gatewayPerTest<G extends GatewayUnderTest = TestGateway, R extends ScriptedReceiver & { stop(): Promise<void> } = Receiver>(
  options: {
    /** How the gateway starts (default `startGateway()`): pass it to give startGateway options. */
    start?: () => Promise<G>;
    /** How the receiver starts (default: a Receiver on 127.0.0.1). */
    receiver?: () => Promise<R>;
    /**
     * The source each test gets (default: canonical, named "PBX", a generated secret); false: none; or the
     * function that makes it once the gateway and the receiver run (warmUp, say).
     */
    source?: { name: string; kind: string; secret?: string } | false | ((gw: G, receiver: R) => Promise<{ id: string; secret: string }>);
  } = {},
): GatewayPerTest<G, R> {
  const start = options.start ?? (startGateway as unknown as () => Promise<G>);
  const startReceiver = options.receiver ?? (() => new Receiver().start() as unknown as Promise<R>);
  const source = options.source ?? { name: "PBX", kind: "canonical" };
  const each = {} as GatewayPerTest<G, R>;
  beforeEach(async () => {
    each.gw = await start();
    each.receiver = await startReceiver();
    if (typeof source === "function") each.source = await source(each.gw, each.receiver);
    else if (source) each.source = await createSource(each.gw, source.name, source.kind, source.secret);
  });
  afterEach(async () => {
    await each.gw.stop();
    await each.receiver.stop();
  });
  return each;
}

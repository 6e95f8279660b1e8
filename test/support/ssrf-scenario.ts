import { writeFileSync } from "node:fs";
import { createSource, createWebhook, deliveriesOf, ingest, startGateway, type TestGateway } from "./gateway.js";
import { Receiver } from "./receiver.js";

// Run by test/ssrf.test.ts INSIDE a loopback-only network namespace (`unshare -rnm`), with `argv[2]` bind-
// mounted over /etc/hosts: whatever the guard lets through can reach nothing but loopback. Prints one JSON
// line: each rule's delivery after each round, and what each receiver got.

const HOSTS = process.argv[2];
const hosts = (rebind: string) =>
  writeFileSync(HOSTS, `127.0.0.1 localhost\n::1 localhost\n10.0.0.1 private.test\n${rebind} rebind.test\n`);

/** Only 127.0.0.2 is permitted: 127.0.0.1 stands for every other blocked address, and it has a listener. */
const STRICT = "127.0.0.2";

async function main() {
  hosts("127.0.0.2");
  // Where a guard bug would deliver (blocked), and the permitted receiver; it closes each connection so
  // that every delivery connects (and is checked) anew.
  const trap = await new Receiver().start("127.0.0.1");
  const allowed = await new Receiver().start("127.0.0.2");
  allowed.handler = () => ({ headers: { connection: "close" } });
  const trapPort = new URL(trap.url).port;
  const allowedPort = new URL(allowed.url).port;
  const rules: Record<string, string> = {
    private_ip: `http://10.0.0.1:${trapPort}/`,
    metadata: "http://169.254.169.254/latest/meta-data/",
    unique_local_ip6: `http://[fd00::1]:${trapPort}/`,
    loopback_ip: `${trap.url}/`,
    loopback_ip6: `http://[::1]:${trapPort}/`,
    mapped_ip6: `http://[::ffff:127.0.0.1]:${trapPort}/`,
    private_name: `http://private.test:${trapPort}/`,
    localhost: `http://localhost:${trapPort}/`,
    allowed: `${allowed.url}/`,
    rebind: `http://rebind.test:${allowedPort}/`,
  };

  // Rules are saved while their addresses are permitted; then the operator restricts OUTBOUND_ALLOW.
  let gw: TestGateway = await startGateway({ outboundAllow: "0.0.0.0/0,::/0" });
  const source = await createSource(gw);
  const names = new Map<string, string>();
  for (const [name, url] of Object.entries(rules)) names.set((await createWebhook(gw, { name, url, retries: 3 })).id, name);
  const { dir, clock } = gw;
  await gw.stop(false);
  gw = await startGateway({ dir, clock, outboundAllow: STRICT });

  let call = 0;
  const round = async () => {
    call += 1;
    // events.ts reads fixtures through Vite, which this plain Node process lacks: a minimal canonical event.
    const event = { type: "call.end", uniqueid: `ssrf.${call}`, direction: "inbound", status: "answered", src: "+15551234567", dst: "201" };
    const answer = await ingest(gw, source, event);
    await gw.settle();
    const deliveries = await deliveriesOf(gw, answer.body.event_id);
    return Object.fromEntries(
      deliveries.map((d) => [names.get(d.webhook_id), { status: d.status, attempts: d.attempt_count, error: d.last_error }]),
    );
  };

  const first = await round();
  // DNS rebinding: the name the rule was saved with now points at a blocked address, which has a listener.
  hosts("127.0.0.1");
  const rebound = await new Receiver().start("127.0.0.1", Number(allowedPort));
  const second = await round();

  await gw.stop();
  const received = { trap: trap.requests.length, allowed: allowed.requests.length, rebound: rebound.requests.length };
  await Promise.all([trap.stop(), allowed.stop(), rebound.stop()]);
  console.log(JSON.stringify({ first, second, received }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

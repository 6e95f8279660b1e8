import { describe, expect, it } from "vitest";
import { configFromEnv } from "../src/config.js";
import { createWorkerTransport } from "../src/runtime/worker-transport.js";
import {
  blockedClass,
  blockedDestinationOf,
  BlockedDestinationError,
  hostRefusal,
  parseIp,
  parseOutboundAllow,
  refusalOf,
  urlRefusal,
} from "../src/delivery/address-policy.js";

const allow = (text: string) => parseOutboundAllow(text).allow;
const NOTHING_ALLOWED = allow("");

describe("address classification", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "cloud metadata"],
    ["169.254.0.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["fc00::1", "unique local"],
    ["fd00::1", "unique local"],
    ["fd00:ec2::254", "unique local"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["0:0:0:0:0:0:0:0", "unspecified"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:a9fe:a9fe", "cloud metadata"],
    ["0:0:0:0:0:ffff:c0a8:0101", "private"],
    ["64:ff9b::10.0.0.1", "private, embedded in IPv6"],
    ["2002:7f00:0001::", "loopback, embedded in IPv6"],
    ["::127.0.0.1", "IPv4-compatible or reserved"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.10", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["2001:db8::1", "documentation"],
    ["[fd00::1]", "unique local"],
  ])("%s is %s", (address, kind) => {
    expect(blockedClass(address)).toBe(kind);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "169.253.255.255", "11.0.0.1",
    "192.169.0.1", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:0808:0808::"])(
    "%s is public",
    (address) => expect(blockedClass(address)).toBeNull(),
  );

  it("reads only well-formed literals as addresses", () => {
    for (const text of ["10.0.0", "10.0.0.256", "010.0.0.1", "1.2.3.4.5", "::1::", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "crm.example.com", ""]) {
      expect(parseIp(text), text).toBeNull();
    }
    expect(parseIp("1:2:3:4:5:6:7::")).not.toBeNull();
    expect(Array.from(parseIp("::ffff:1.2.3.4")!)).toEqual(Array.from(parseIp("1.2.3.4")!));
  });
});

describe("OUTBOUND_ALLOW", () => {
  it("parses CIDRs, addresses and host names, and returns the entries it cannot read", () => {
    const { allow: parsed, invalid } = parseOutboundAllow(" 127.0.0.0/8, ::1 ,crm.internal, *.corp.example,10.0.0.0/33, http://x, a b ,, ");
    expect(parsed.cidrs).toHaveLength(2);
    expect(parsed.hosts).toEqual(["crm.internal", "*.corp.example"]);
    expect(invalid).toEqual(["10.0.0.0/33", "http://x", "a b"]);
  });

  it("is read from the environment, nothing allowed by default, bad entries named", () => {
    expect(configFromEnv({}).outboundAllow).toEqual({ cidrs: [], hosts: [] });
    expect(configFromEnv({ OUTBOUND_ALLOW: "127.0.0.0/8,crm.internal" }).outboundAllow.hosts).toEqual(["crm.internal"]);
    expect(() => configFromEnv({ OUTBOUND_ALLOW: "127.0.0.0/8,10.0.0.0/40" })).toThrow(
      "OUTBOUND_ALLOW: not a CIDR, address or host name: 10.0.0.0/40",
    );
  });

  it("permits a blocked address inside an allowed CIDR, in its IPv4 and IPv4-mapped forms", () => {
    const local = allow("127.0.0.0/8,::1,10.1.0.0/16");
    expect(refusalOf("127.0.0.1", "127.0.0.1", local)).toBeNull();
    expect(refusalOf("localhost", "::1", local)).toBeNull();
    expect(refusalOf("x", "::ffff:127.0.0.9", local)).toBeNull();
    expect(refusalOf("x", "10.1.200.3", local)).toBeNull();
    expect(refusalOf("x", "10.2.0.1", local)).toContain("10.2.0.1, which is a blocked address (private)");
    expect(refusalOf("x", "::2", local)).toMatch(/reserved/);
  });

  it("permits a host by name, and its subdomains with *.", () => {
    const named = allow("crm.internal,*.corp.example");
    expect(refusalOf("CRM.internal.", "10.0.0.5", named)).toBeNull();
    expect(refusalOf("a.b.corp.example", "192.168.0.9", named)).toBeNull();
    expect(refusalOf("corp.example", "192.168.0.9", named)).toMatch(/corp\.example resolves to 192\.168\.0\.9/);
    expect(refusalOf("other.internal", "10.0.0.5", named)).toMatch(/other\.internal resolves to 10\.0\.0\.5/);
  });
});

describe("refusals", () => {
  it("name the host, the resolved address, its class and the setting to change", () => {
    expect(refusalOf("crm.example.com", "10.0.0.1", NOTHING_ALLOWED)).toBe(
      "outbound request refused: crm.example.com resolves to 10.0.0.1, which is a blocked address (private); " +
        "set OUTBOUND_ALLOW to permit it (e.g. OUTBOUND_ALLOW=10.0.0.1/32)",
    );
    expect(refusalOf("fd00::1", "fd00::1", NOTHING_ALLOWED)).toBe(
      "outbound request refused: fd00::1 is a blocked address (unique local); set OUTBOUND_ALLOW to permit it (e.g. OUTBOUND_ALLOW=fd00::1/128)",
    );
    expect(refusalOf("crm.example.com", "93.184.215.14", NOTHING_ALLOWED)).toBeNull();
  });

  it("from the URL alone: IP literals and localhost names, not other names", () => {
    expect(hostRefusal("169.254.169.254", NOTHING_ALLOWED)).toContain("169.254.169.254 is a blocked address (cloud metadata)");
    expect(hostRefusal("[fd00::1]", NOTHING_ALLOWED)).toContain("fd00::1 is a blocked address (unique local)");
    expect(hostRefusal("localhost", NOTHING_ALLOWED)).toContain("localhost resolves to 127.0.0.1, which is a blocked address (loopback)");
    expect(hostRefusal("api.LOCALHOST", NOTHING_ALLOWED)).toMatch(/loopback/);
    expect(hostRefusal("localhost", allow("127.0.0.0/8"))).toBeNull();
    expect(hostRefusal("localhost.example.com", NOTHING_ALLOWED)).toBeNull();
    expect(hostRefusal("crm.example.com", NOTHING_ALLOWED)).toBeNull();
    expect(hostRefusal("8.8.8.8", NOTHING_ALLOWED)).toBeNull();
  });

  it("see the host as the URL parser normalizes it: decimal, hex and short IPv4 forms, bracketed IPv6", () => {
    expect(urlRefusal("http://2130706433:8080/x", NOTHING_ALLOWED)).toContain("127.0.0.1 is a blocked address (loopback)");
    expect(urlRefusal("http://0x7f.1/x", NOTHING_ALLOWED)).toContain("127.0.0.1 is a blocked address (loopback)");
    expect(urlRefusal("http://0/x", NOTHING_ALLOWED)).toContain("0.0.0.0 is a blocked address (unspecified)");
    expect(urlRefusal("https://[::ffff:169.254.169.254]/", NOTHING_ALLOWED)).toContain("(cloud metadata)");
    expect(urlRefusal("{{{config.base_url}}}/calls", NOTHING_ALLOWED)).toBeNull();
    expect(urlRefusal("https://crm.example.com/calls", NOTHING_ALLOWED)).toBeNull();
  });

  it("are found behind the causes fetch wraps them in", () => {
    const refusal = new BlockedDestinationError("outbound request refused: ...");
    expect(blockedDestinationOf(new TypeError("fetch failed", { cause: refusal }))).toBe(refusal);
    expect(blockedDestinationOf(refusal)).toBe(refusal);
    expect(blockedDestinationOf(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") }))).toBeNull();
    expect(blockedDestinationOf("text")).toBeNull();
  });
});

describe("the Workers transport", () => {
  // 0.0.0.0 reaches this machine: were the guard to let it through, nothing would leave the host.
  // What OUTBOUND_ALLOW permits it fetches: the workerd suite's receivers on 127.0.0.1 are reached through it.
  it("refuses a blocked IP literal or localhost before fetching", async () => {
    const strict = createWorkerTransport(NOTHING_ALLOWED);
    await expect(strict.fetch("http://0.0.0.0:9/", {})).rejects.toThrow("0.0.0.0 is a blocked address (unspecified)");
    await expect(strict.fetch("http://localhost:9/", {})).rejects.toBeInstanceOf(BlockedDestinationError);
  });
});

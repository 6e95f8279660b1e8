// Which addresses outbound requests may reach (SSRF guard): pure classification of IP addresses, the
// operator's allowlist (OUTBOUND_ALLOW) and the refusal message. Runtimes apply it where they connect.

/** The environment variable that permits private destinations; named in every refusal. */
const OUTBOUND_ALLOW = "OUTBOUND_ALLOW";

/** An address as 16 bytes: IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so one range table serves both. */
type Bytes = Uint8Array;

interface Cidr {
  bytes: Bytes;
  prefix: number;
}

export interface OutboundAllow {
  cidrs: Cidr[];
  /** Lower-case host names; `*.example.com` permits the subdomains of example.com. */
  hosts: string[];
}

function parseIpv4(text: string): Bytes | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...parts.map(Number)]);
}

function hextets(part: string): number[] | null {
  if (part === "") return [];
  const groups = part.split(":");
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

function parseIpv6(text: string): Bytes | null {
  let body = text.replace(/%.*$/, ""); // a zone id (fe80::1%eth0) does not change the class
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (v4) {
    // A dotted tail (::ffff:10.0.0.1) is the last two groups.
    const b = parseIpv4(v4[1]);
    if (!b) return null;
    body = `${body.slice(0, v4.index + 1)}${((b[12] << 8) | b[13]).toString(16)}:${((b[14] << 8) | b[15]).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const head = hextets(halves[0]);
  const rest = halves.length === 2 ? hextets(halves[1]) : [];
  if (!head || !rest) return null;
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest];
  return Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
}

/** The 16-byte form of an IPv4 or IPv6 literal (brackets allowed), or null when `text` is not one. */
export function parseIp(text: string): Bytes | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  return bare.includes(":") ? parseIpv6(bare) : parseIpv4(bare);
}

function inCidr(address: Bytes, cidr: Cidr): boolean {
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== cidr.bytes[i]) return false;
  const bits = cidr.prefix & 7;
  if (!bits) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (address[whole] & mask) === (cidr.bytes[whole] & mask);
}

/** `a.b.c.d/n` or `v6/n`; a bare address is a single host. IPv4 prefixes count within the mapped form. */
function parseCidr(text: string): Cidr | null {
  const [ip, prefixText, ...extra] = text.split("/");
  const bytes = parseIp(ip);
  if (!bytes || extra.length) return null;
  const v4 = !ip.includes(":");
  const max = v4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return null;
  return { bytes, prefix: v4 ? prefix + 96 : prefix };
}

const range = (text: string, label: string) => ({ ...parseCidr(text)!, label });

// Checked in order; the first match names the class. IPv4 ranges also cover their IPv4-mapped form.
const BLOCKED_V4 = [
  range("169.254.169.254", "cloud metadata"),
  range("0.0.0.0/8", "unspecified"),
  range("10.0.0.0/8", "private"),
  range("100.64.0.0/10", "carrier-grade NAT"),
  range("127.0.0.0/8", "loopback"),
  range("169.254.0.0/16", "link-local"),
  range("172.16.0.0/12", "private"),
  range("192.0.0.0/24", "IETF protocol assignments"),
  range("192.0.2.0/24", "documentation"),
  range("192.88.99.0/24", "6to4 relay"),
  range("192.168.0.0/16", "private"),
  range("198.18.0.0/15", "benchmarking"),
  range("198.51.100.0/24", "documentation"),
  range("203.0.113.0/24", "documentation"),
  range("224.0.0.0/4", "multicast"),
  range("255.255.255.255", "broadcast"),
  range("240.0.0.0/4", "reserved"),
];

const BLOCKED_V6 = [
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  range("::/8", "IPv4-compatible or reserved"),
  range("64:ff9b:1::/48", "local NAT64"),
  range("100::/64", "discard-only"),
  range("2001:db8::/32", "documentation"),
  range("fc00::/7", "unique local"),
  range("fe80::/10", "link-local"),
  range("fec0::/10", "site-local"),
  range("ff00::/8", "multicast"),
];

const MAPPED = parseCidr("::ffff:0:0/96")!;
const NAT64 = parseCidr("64:ff9b::/96")!;

/** The IPv4 address an IPv6 one stands for: IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16). */
function ipv4Within(address: Bytes): { v4: Bytes; embedded: boolean } | null {
  if (inCidr(address, MAPPED)) return { v4: address, embedded: false };
  const v4 = (a: number, b: number, c: number, d: number) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]);
  if (inCidr(address, NAT64)) return { v4: v4(address[12], address[13], address[14], address[15]), embedded: true };
  if (address[0] === 0x20 && address[1] === 0x02) return { v4: v4(address[2], address[3], address[4], address[5]), embedded: true };
  return null;
}

/** The blocked class of an IP address (`"private"`, `"loopback"`...), or null when it is public. */
export function blockedClass(address: string): string | null {
  const bytes = parseIp(address);
  if (!bytes) return null;
  const within = ipv4Within(bytes);
  if (!within) return BLOCKED_V6.find((r) => inCidr(bytes, r))?.label ?? null;
  const label = BLOCKED_V4.find((r) => inCidr(within.v4, r))?.label ?? null;
  return label && within.embedded ? `${label}, embedded in IPv6` : label;
}

/** Parses OUTBOUND_ALLOW: comma-separated CIDRs, addresses and host names; the bad entries are returned too. */
export function parseOutboundAllow(text: string): { allow: OutboundAllow; invalid: string[] } {
  const allow: OutboundAllow = { cidrs: [], hosts: [] };
  const invalid: string[] = [];
  for (const entry of text.split(",").map((e) => e.trim()).filter(Boolean)) {
    const cidr = parseCidr(entry);
    if (cidr) allow.cidrs.push(cidr);
    else if (/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(entry)) {
      allow.hosts.push(entry.toLowerCase().replace(/\.$/, ""));
    } else invalid.push(entry);
  }
  return { allow, invalid };
}

/** True when the operator permits this host by name: requests to it are not checked at all. */
export function hostAllowed(host: string, allow: OutboundAllow): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return allow.hosts.some((h) => (h.startsWith("*.") ? name.endsWith(h.slice(1)) : name === h));
}

function addressAllowed(address: string, allow: OutboundAllow): boolean {
  const bytes = parseIp(address);
  return Boolean(bytes) && allow.cidrs.some((cidr) => inCidr(bytes!, cidr));
}

/** Why a connection from `host` to the resolved `address` is refused, or null when it may go ahead. */
export function refusalOf(host: string, address: string, allow: OutboundAllow): string | null {
  if (hostAllowed(host, allow) || addressAllowed(address, allow)) return null;
  const kind = blockedClass(address);
  if (!kind) return null;
  const bare = address.replace(/^\[|\]$/g, "");
  const what = parseIp(host) ? bare : `${host} resolves to ${bare}, which`;
  return `outbound request refused: ${what} is a blocked address (${kind}); set ${OUTBOUND_ALLOW} to permit it (e.g. ${OUTBOUND_ALLOW}=${bare}${bare.includes(":") ? "/128" : "/32"})`;
}

/** Names that mean this machine without asking DNS (RFC 6761), checked as the loopback address. */
const LOCAL_NAME = /^(localhost|.*\.localhost)\.?$/i;

/**
 * What can be refused from the URL alone, before any lookup: an IP-literal host in a blocked range, or a
 * `localhost` name. Node checks resolved names again at connect time; Workers cannot, and Cloudflare itself
 * refuses private destinations there.
 */
export function hostRefusal(hostname: string, allow: OutboundAllow): string | null {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (parseIp(host)) return refusalOf(host, host, allow);
  if (LOCAL_NAME.test(host)) return refusalOf(host, "127.0.0.1", allow);
  return null;
}

/** `hostRefusal` for a URL's host; null for a URL that does not parse (one still holding Handlebars, say). */
export function urlRefusal(url: string, allow: OutboundAllow): string | null {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return null;
  }
  return hostRefusal(hostname, allow);
}

/** Thrown (or passed to a connect callback) when the guard refuses a destination; never worth a retry. */
export class BlockedDestinationError extends Error {
  readonly code = "ERR_OUTBOUND_BLOCKED";
  constructor(message: string) {
    super(message);
    this.name = "BlockedDestinationError";
  }
}

/** The guard's refusal behind an error (fetch wraps connect errors as `cause`), or null. */
export function blockedDestinationOf(error: unknown): BlockedDestinationError | null {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === "ERR_OUTBOUND_BLOCKED") return e as BlockedDestinationError;
  }
  return null;
}

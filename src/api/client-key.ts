import { parseIp } from "../delivery/address-policy.js";

/**
 * The key a client address is limited by: an IPv6 address by its /64, which one subscriber or server holds
 * whole (a guesser changing addresses within it is still one client); an IPv4 one, IPv4-mapped included, as it is.
 */
export function clientKey(address: string): string {
  const bytes = parseIp(address);
  if (!bytes) return address;
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return bytes.subarray(12).join(".");
  const groups = Array.from({ length: 4 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
  return `${groups.join(":")}::/64`;
}

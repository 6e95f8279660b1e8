// Secrets are write-only: after creation every response shows them masked. A masked value sent back
// unchanged (a console form saving what it was shown) keeps the stored secret.

const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie)$|key|token|secret|pass|credential|private|signature|session|auth/i;

export function maskSecret(value: string): string {
  return value.length >= 16 ? `****${value.slice(-4)}` : "****";
}

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

/** A credential header masked, keeping its scheme (`Bearer ****abcd`) so that people see what kind it is. */
function maskHeaderValue(value: string): string {
  if (value.includes("****")) return value;
  const [, scheme = "", credential] = /^((?:Bearer|Basic|Token|Digest)\s+)?(.*)$/is.exec(value)!;
  return scheme + maskSecret(credential);
}

export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, isSensitiveHeader(name) ? maskHeaderValue(value) : value]),
  );
}

/** A secret from an update: the stored one when the caller sent back its masked form. */
export function keepUnlessChanged(incoming: string, stored: string): string {
  return incoming === maskSecret(stored) ? stored : incoming;
}

/** Headers from an update, keeping each stored sensitive value whose masked form came back. */
export function mergeHeaders(incoming: Record<string, string>, stored: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(incoming).map(([name, value]) => [
      name,
      stored[name] !== undefined && isSensitiveHeader(name) && value === maskHeaderValue(stored[name]) ? stored[name] : value,
    ]),
  );
}

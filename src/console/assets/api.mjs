// The admin API, with the token kept for this browser tab only (sessionStorage).

const TOKEN_KEY = "gateway-admin-token";
let whenUnauthorized = () => {};

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  save: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
  /** What to do when the API answers 401 (the shell signs out). */
  onUnauthorized: (handler) => (whenUnauthorized = handler),
};

/** An API error: the answer's `{error: {code, message, details}}` and its HTTP status. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code;
    this.details = Array.isArray(error?.details) ? error.details : [];
  }
}

/** Calls the admin API; a 401 signs out. */
export async function api(method, path, body) {
  const headers = { authorization: `Bearer ${session.token()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401) {
    whenUnauthorized("The admin token is not valid (any more). Sign in again.");
    throw new ApiError(401, data?.error);
  }
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return data;
}

/**
 * Why the gateway refuses this token, in its words (too many wrong tokens, say), or null when it takes it;
 * without signing out.
 */
export async function tokenRefusal(token) {
  let response;
  try {
    response = await fetch("/api/presets", { headers: { authorization: `Bearer ${token}` } });
  } catch {
    return "The gateway cannot be reached. Check that it is running, then try again.";
  }
  if (response.ok) return null;
  if (response.status === 401) return "That token is not valid.";
  const data = await response.json().catch(() => null);
  return data?.error?.message ?? `The gateway answered HTTP ${response.status}.`;
}

/** `?name=value` for the non-empty entries. */
export function queryOf(params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== ""));
  return query.size ? `?${query}` : "";
}

/** Names by id of a list endpoint's first 200 records (webhooks, sources), for labelling rows. */
export async function namesById(path) {
  const { data } = await api("GET", `${path}?limit=200`);
  return new Map(data.map((record) => [record.id, record.name]));
}

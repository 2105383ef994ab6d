// Small helpers shared by the pages: the token and authenticated fetches.

const TOKEN_KEY = "courtside.token";

/** Token from "#token=..." (kept in sessionStorage, removed from the address bar) or storage. */
export function readToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const fromHash = hash.get("token");
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    hash.delete("token");
    const rest = hash.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return fromHash || sessionStorage.getItem(TOKEN_KEY) || null;
}

export async function fetchJson(path, token) {
  const response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// Courtside replay over fanout's REST API (recordings, export, annotations, clips), for browsers
// and Node >= 20 (fetch). Times are Unix nanoseconds; pass them as strings or BigInts to keep
// every digit (Numbers lose the last ones). Types: replay.d.ts.

/** Error of a replay call: `status` is the HTTP status, `message` fanout's reason. */
export class ReplayError extends Error {
  constructor(status, message) {
    super(`HTTP ${status}: ${message}`);
    this.status = status;
  }
}

export class ReplayClient {
  /** @param {{baseUrl?: string, token?: string|null}} [options] baseUrl defaults to the page's origin. */
  constructor({ baseUrl = "", token = null } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.token = token;
  }

  async _fetch(path, params, init = {}) {
    const query = params ? `?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}` : "";
    const headers = { ...(init.headers || {}), ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) };
    const response = await fetch(`${this.baseUrl}${path}${query}`, { ...init, headers });
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail ?? detail; } catch { /* not JSON */ }
      throw new ReplayError(response.status, detail);
    }
    return response;
  }

  /** Every span (`recording` with its `url`, or `gap`) of [start, end), following the pages. */
  async recordings(camera, start, end) {
    const items = [];
    let from = String(start);
    while (from !== null) {
      const page = await (await this._fetch("/api/recordings", { camera, start: from, end: String(end) })).json();
      items.push(...page.items);
      from = page.next_start === null ? null : String(page.next_start);
    }
    return items;
  }

  /** Archived annotations of [start, end) and the seq/pts/ts index of each segment touched. */
  async annotations(camera, start, end) {
    return (await this._fetch("/api/annotations", { camera, start: String(start), end: String(end) })).json();
  }

  /**
   * One MP4 of [start, end) (remuxed): {blob, startNs, endNs, frames}; the start is the keyframe
   * at or before `start`.
   */
  async export(camera, start, end) {
    const response = await this._fetch("/api/export", { camera, start: String(start), end: String(end) });
    return {
      blob: await response.blob(),
      startNs: response.headers.get("Courtside-Start-Ns"),
      endNs: response.headers.get("Courtside-End-Ns"),
      frames: Number(response.headers.get("Courtside-Frames")),
    };
  }

  /** Save a clip: `{start, end}` or `{lastS}` (default the last 30 s); needs the write scope. */
  async saveClip(camera, { start, end, lastS } = {}) {
    const body = start !== undefined ? { camera, start_ns: Number(start), end_ns: Number(end) }
      : { camera, ...(lastS ? { last_s: lastS } : {}) };
    const response = await this._fetch("/api/clips", null, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    return response.json();
  }

  /** Saved clips of a camera (never expired). */
  async clips(camera) {
    return (await (await this._fetch("/api/clips", { camera })).json()).clips;
  }

  /** Rally clips of a camera, best first by `rank` ("longest", "fastest" or "shots"), whose rally
   * started in `start`..`end` (Unix ns; defaults: all, until now); each has its stats in `rally`. */
  async highlights(camera, { rank = "longest", start, end, limit } = {}) {
    const params = { camera, rank };
    if (start !== undefined) params.start = String(start);
    if (end !== undefined) params.end = String(end);
    if (limit !== undefined) params.limit = String(limit);
    return (await (await this._fetch("/api/highlights", params)).json()).highlights;
  }
}

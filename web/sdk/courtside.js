// Courtside fanout client for browsers (WebSocket protocol v1, see contracts/courtside_contracts/ws.py).
// Plain ES module, no dependencies (the package @courtside/client, web/sdk/package.json).
// Reconnects with capped exponential backoff and jitter, re-sends the last subscribe after
// every reconnect, carries the token as the subprotocol "bearer.<token>" (browsers cannot set
// headers on a WebSocket), and detects dead connections with application pings.
// Types: courtside.d.ts. The contract's names and layout come from contract.js, generated from
// courtside_contracts (sdk/generate_js_contract.py).

import { BEARER_SUBPROTOCOL_PREFIX, OPS, PROTOCOL_VERSION, SUBPROTOCOL, VIDEO_HEADER } from "./contract.js";

export * from "./contract.js";

const textDecoder = new TextDecoder("ascii");

/**
 * Parse a binary video message: u8 version, u8 camera length N, N bytes camera,
 * u64 seq, i64 ts (Unix ns), u16 width, u16 height, then the JPEG (big-endian).
 * `seq` and `ts` become Numbers (ts loses sub-microsecond precision; fine for latency).
 */
export function unpackVideo(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  if (bytes.length < 2 || bytes[0] !== VIDEO_HEADER.version) throw new Error("not a version-1 video message");
  const n = bytes[1];
  const fixed = 2 + n;
  const end = fixed + VIDEO_HEADER.fixedBytes;
  if (bytes.length < end) throw new Error("video message truncated");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const camera = textDecoder.decode(bytes.subarray(2, fixed));
  return {
    camera,
    seq: Number(view.getBigUint64(fixed + VIDEO_HEADER.seqOffset)),
    ts: Number(view.getBigInt64(fixed + VIDEO_HEADER.tsOffset)),
    width: view.getUint16(fixed + VIDEO_HEADER.widthOffset),
    height: view.getUint16(fixed + VIDEO_HEADER.heightOffset),
    jpeg: bytes.subarray(end),
  };
}

/**
 * The client's subscribe op (the JSON text it sends); omitted cameras = every camera the
 * token may see, omitted models = every model. The server validates the names.
 */
export function subscribeMessage(subscription = {}) {
  return JSON.stringify({ v: PROTOCOL_VERSION, op: OPS.subscribe, ...normalizeSubscription(subscription) });
}

/** The client's application ping op; the server answers pong with the same nonce. */
export function pingMessage(nonce = null) {
  return JSON.stringify({ v: PROTOCOL_VERSION, op: OPS.ping, nonce });
}

/** The subprotocol that carries a token: "bearer.<token>". */
export function bearerSubprotocol(token) {
  return `${BEARER_SUBPROTOCOL_PREFIX}${token}`;
}

/** ws(s)://<this page's host>/ws */
export function defaultWsUrl(loc = globalThis.location) {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/ws`;
}

/** Delay before reconnect attempt `attempt` (0-based), in ms: exponential, capped, jittered. */
export function backoffDelay(attempt, minMs, maxMs, random = Math.random) {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * A live connection to fanout. Events (CustomEvent, payload in `detail`): open,
 * subscribed, annotation, video, status, dropped, pong, error (server error reply),
 * close ({code, reason, reconnectInMs}). `on(type, fn)` calls fn(detail) and returns an
 * unsubscribe function.
 */
export class CourtsideClient extends EventTarget {
  constructor(options = {}) {
    super();
    this.url = options.url ?? defaultWsUrl();
    this.token = options.token ?? null;
    this.minBackoffMs = options.minBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 10000;
    this.pingIntervalMs = options.pingIntervalMs ?? 10000;
    this.reconnect = options.reconnect ?? true;
    this._subscription = null;
    if (options.cameras !== undefined || options.models !== undefined || options.video !== undefined) {
      this._subscription = normalizeSubscription(options);
    }
    this._ws = null;
    this._attempt = 0;
    this._timer = null;
    this._pingTimer = null;
    this._lastPong = 0;
    this._closed = true;
    this.connects = 0;
  }

  /** "idle" | "connecting" | "open" | "closed" */
  get state() {
    if (this._closed) return this._ws ? "closed" : "idle";
    if (!this._ws || this._ws.readyState === WebSocket.CONNECTING) return "connecting";
    return this._ws.readyState === WebSocket.OPEN ? "open" : "connecting";
  }

  get subscription() {
    return this._subscription;
  }

  on(type, handler) {
    const listener = (event) => handler(event.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  connect() {
    this._closed = false;
    this._open();
    return this;
  }

  /** Replace the subscription; sent now when open and again after every reconnect. */
  subscribe(subscription = {}) {
    this._subscription = normalizeSubscription(subscription);
    this._sendSubscribe();
  }

  ping(nonce = String(Date.now())) {
    this._send(pingMessage(nonce));
  }

  close() {
    this._closed = true;
    clearTimeout(this._timer);
    clearInterval(this._pingTimer);
    if (this._ws) this._ws.close(1000, "client closed");
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _send(text) {
    if (this._ws && this._ws.readyState === WebSocket.OPEN) this._ws.send(text);
  }

  _sendSubscribe() {
    if (this._subscription) this._send(subscribeMessage(this._subscription));
  }

  _open() {
    const protocols = [SUBPROTOCOL];
    if (this.token) protocols.push(bearerSubprotocol(this.token));
    let ws;
    try {
      ws = new WebSocket(this.url, protocols);
    } catch (err) {
      this._scheduleReconnect(1006, String(err));
      return;
    }
    ws.binaryType = "arraybuffer";
    this._ws = ws;
    ws.onopen = () => {
      this.connects += 1;
      this._lastPong = Date.now();
      this._emit("open", { url: this.url, protocol: ws.protocol, reconnect: this.connects > 1 });
      this._sendSubscribe();
      clearInterval(this._pingTimer);
      this._pingTimer = setInterval(() => this._keepalive(ws), this.pingIntervalMs);
    };
    ws.onmessage = (event) => this._onMessage(event.data);
    ws.onclose = (event) => {
      if (this._ws !== ws) return;
      clearInterval(this._pingTimer);
      this._scheduleReconnect(event.code, event.reason);
    };
  }

  _keepalive(ws) {
    // Two missed pongs: the connection is half-open (e.g. a sleeping laptop); start again.
    if (Date.now() - this._lastPong > 2.5 * this.pingIntervalMs) {
      ws.close(4000, "pong timeout");
      return;
    }
    this.ping();
  }

  _scheduleReconnect(code, reason) {
    const willReconnect = this.reconnect && !this._closed;
    const delay = willReconnect ? backoffDelay(this._attempt++, this.minBackoffMs, this.maxBackoffMs) : null;
    this._emit("close", { code, reason, reconnectInMs: delay });
    if (willReconnect) {
      clearTimeout(this._timer);
      this._timer = setTimeout(() => {
        if (!this._closed) this._open();
      }, delay);
    }
  }

  _onMessage(data) {
    if (typeof data !== "string") {
      let frame;
      try {
        frame = unpackVideo(data);
      } catch (err) {
        this._emit("error", { code: "bad_video", message: String(err) });
        return;
      }
      frame.blob = () => new Blob([frame.jpeg], { type: "image/jpeg" });
      this._emit("video", frame);
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      this._emit("error", { code: "bad_json", message: "server sent invalid JSON" });
      return;
    }
    switch (msg.type) {
      case "annotation":
        this._emit("annotation", msg.annotation);
        break;
      case "analytics":
        this._emit("analytics", msg.analytics);
        break;
      case "subscribed":
        this._attempt = 0; // a working connection: the next failure starts the backoff afresh
        this._emit("subscribed", { cameras: msg.cameras, models: msg.models, video: msg.video });
        break;
      case "pong":
        this._lastPong = Date.now();
        this._emit("pong", { nonce: msg.nonce, ts: msg.ts });
        break;
      case "status":
        this._emit("status", { cameras: msg.cameras ?? {}, models: msg.models ?? {} });
        break;
      case "dropped":
        this._emit("dropped", { count: msg.count, total: msg.total });
        break;
      case "error":
        this._emit("error", { code: msg.code, message: msg.message });
        break;
      default:
        break; // newer servers may add types: ignore them
    }
  }
}

function normalizeSubscription({ cameras, models, video } = {}) {
  const out = { video: video === "jpeg" ? "jpeg" : "none" };
  if (cameras != null) out.cameras = [...cameras];
  if (models != null) out.models = [...models];
  return out;
}

// Types of the Courtside browser SDK (courtside.js, the package @courtside/client). They mirror
// the wire contract in contracts/courtside_contracts/annotations.py and ws.py: the names, codes and
// layout come generated in contract.d.ts; tests/sdk checks the interfaces below against the contract.

import type { ErrorCode, VideoMode, Weights } from "./contract.js";

export * from "./contract.js";

/** One detection. Coordinates are pixels of the published frame (frame.w x frame.h). */
export interface DetectedObject {
  label: string;
  class_id: number;
  score: number;
  /** [x1, y1, x2, y2], pixels, origin top-left. */
  box: [number, number, number, number];
  track_id?: number;
  /** COCO-17 order when present: [x, y, score] in pixels. */
  keypoints?: [number, number, number][];
}

export interface Ball {
  x: number;
  y: number;
  score: number;
  visible: boolean;
}

/** One model's results for one frame (the JSON of annotations.<camera>.<model>). */
export interface Annotation {
  camera: string;
  /** Per-camera frame counter: join with VideoFrame.seq. */
  seq: number;
  /** Capture time, Unix nanoseconds (as a Number: sub-microsecond precision is lost). */
  ts: number;
  model: string;
  model_version: string;
  weights: Weights;
  frame: { w: number; h: number };
  latency_ms: { queue: number; infer: number; total: number };
  objects: DetectedObject[];
  ball?: Ball;
  /** What trained weights were trained on, when the backend knows it (e.g. "synthetic court (courtside.sim v1)"). */
  trained_on?: string;
}

/** A binary video message: header plus JPEG bytes. */
export interface VideoFrame {
  camera: string;
  seq: number;
  /** Capture time, Unix nanoseconds. */
  ts: number;
  width: number;
  height: number;
  jpeg: Uint8Array;
  /** The JPEG as a Blob (for createImageBitmap). */
  blob(): Blob;
}

export interface Subscription {
  /** Omitted = every camera the token may see. */
  cameras?: string[];
  /** Omitted = every model. */
  models?: string[];
  video?: VideoMode;
}

export interface Subscribed {
  cameras: string[] | null;
  models: string[] | null;
  video: VideoMode;
}

export interface CameraStatus {
  state: string;
  live: boolean;
  fps: number | null;
  models: string[];
}

export interface ModelStatus {
  state: string;
  weights: Weights | null;
  cameras: string[];
}

export interface Status {
  cameras: Record<string, CameraStatus>;
  models: Record<string, ModelStatus>;
}

export interface Dropped {
  /** Messages lost since the previous report (this client was too slow). */
  count: number;
  total: number;
}

/** Errors the SDK itself reports: a server message it cannot read. */
export type ClientErrorCode = "bad_json" | "bad_video";

export interface ServerError {
  /** A server error code (ERROR_CODES), or one of the SDK's own when a server message is unreadable. */
  code: ErrorCode | ClientErrorCode;
  message: string;
}

export interface Pong {
  nonce: string | null;
  /** Server time, Unix nanoseconds. */
  ts: number;
}

export interface Opened {
  url: string;
  protocol: string;
  reconnect: boolean;
}

export interface Closed {
  code: number;
  reason: string;
  /** Delay before the next attempt; null when the client will not reconnect. */
  reconnectInMs: number | null;
}

/** One frame of court analytics (contracts/courtside_contracts/analytics.py): court metres, m/s, Unix ns. */
export interface Analytics {
  v: number;
  camera: string;
  seq: number;
  ts: number;
  calibration: { revision: number; kind: "floor" | "pose"; reprojection_px: number };
  players: {
    track_id: number; side: "near" | "far"; x: number; y: number; speed_mps: number; distance_m: number;
    zone: "net" | "transition" | "back"; zone_s: { net: number; transition: number; back: number };
  }[];
  ball: { x: number; y: number; z: number | null; speed_mps: number | null; speed_error_mps: number | null;
          speed_kind: "3d" | "court_plane" } | null;
  bounces: { seq: number; ts: number; x: number; y: number; z: number; surface: "floor" | "glass" | "mesh" | "net" }[];
  rally: { active: boolean; start_ts: number | null; shots: number } | null;
  finished_rally: { start_ts: number; end_ts: number; duration_s: number; shots: number; fastest_mps: number;
                    reason: string } | null;
  /** Hits settled at this frame (camera pose only); absent when none. */
  hits?: { seq: number; ts: number; track_id: number; side: "near" | "far"; x: number; y: number; z: number }[];
}

export interface CourtsideEvents {
  open: Opened;
  subscribed: Subscribed;
  annotation: Annotation;
  analytics: Analytics;
  video: VideoFrame;
  status: Status;
  dropped: Dropped;
  pong: Pong;
  error: ServerError;
  close: Closed;
}

export interface ClientOptions extends Subscription {
  /** Default: ws(s)://<page host>/ws */
  url?: string;
  /** Bearer token, sent as the subprotocol "bearer.<token>". */
  token?: string | null;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  pingIntervalMs?: number;
  reconnect?: boolean;
}

export declare function unpackVideo(buffer: ArrayBuffer | Uint8Array): Omit<VideoFrame, "blob">;
/** The JSON text of a subscribe op. */
export declare function subscribeMessage(subscription?: Subscription): string;
/** The JSON text of a ping op. */
export declare function pingMessage(nonce?: string | null): string;
/** "bearer.<token>" */
export declare function bearerSubprotocol(token: string): string;
export declare function defaultWsUrl(loc?: Location): string;
export declare function backoffDelay(attempt: number, minMs: number, maxMs: number, random?: () => number): number;

export declare class CourtsideClient extends EventTarget {
  constructor(options?: ClientOptions);
  readonly url: string;
  readonly state: "idle" | "connecting" | "open" | "closed";
  readonly subscription: Subscription | null;
  /** Successful connections so far (> 1 after a reconnect). */
  readonly connects: number;
  connect(): this;
  subscribe(subscription?: Subscription): void;
  ping(nonce?: string): void;
  close(): void;
  on<K extends keyof CourtsideEvents>(type: K, handler: (detail: CourtsideEvents[K]) => void): () => void;
}

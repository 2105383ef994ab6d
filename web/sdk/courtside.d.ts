// Types of the Courtside browser SDK (courtside.js). They mirror the wire contract in
// contracts/annotations.py and contracts/ws.py; tests/web checks that they stay in step.

export const PROTOCOL_VERSION: 1;
export const SUBPROTOCOL: "courtside.v1";

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
  weights: "trained" | "untrained";
  frame: { w: number; h: number };
  latency_ms: { queue: number; infer: number; total: number };
  objects: DetectedObject[];
  ball?: Ball;
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
  video?: "jpeg" | "none";
}

export interface Subscribed {
  cameras: string[] | null;
  models: string[] | null;
  video: "jpeg" | "none";
}

export interface CameraStatus {
  state: string;
  live: boolean;
  fps: number | null;
  models: string[];
}

export interface ModelStatus {
  state: string;
  weights: "trained" | "untrained" | null;
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

export interface ServerError {
  /** bad_json | bad_request | bad_version | unknown_op | too_large | forbidden | idle | bad_video */
  code: string;
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

export interface CourtsideEvents {
  open: Opened;
  subscribed: Subscribed;
  annotation: Annotation;
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

// Types of replay.js: Courtside replay over fanout's REST API. Times are Unix nanoseconds.

export type Nanos = string | bigint | number;

export class ReplayError extends Error {
  status: number;
  constructor(status: number, message: string);
}

export interface Span {
  kind: "recording" | "gap";
  start_ns: number;
  end_ns: number;
  size?: number;
  name?: string;
  url?: string;
  sidecar_url?: string;
}

export interface SegmentHeader {
  key: string;
  segment: { segment_id: string; start_ns: number; end_ns: number; pts_origin: number; index: [number | null, number, number][] };
  models: { name: string; version: string; weights: string }[];
}

export interface Exported {
  blob: Blob;
  startNs: string | null;
  endNs: string | null;
  frames: number;
}

export class ReplayClient {
  constructor(options?: { baseUrl?: string; token?: string | null });
  recordings(camera: string, start: Nanos, end: Nanos): Promise<Span[]>;
  annotations(camera: string, start: Nanos, end: Nanos): Promise<{ camera: string; segments: SegmentHeader[]; annotations: Record<string, unknown>[] }>;
  export(camera: string, start: Nanos, end: Nanos): Promise<Exported>;
  saveClip(camera: string, range?: { start?: Nanos; end?: Nanos; lastS?: number }): Promise<Record<string, unknown>>;
  clips(camera: string): Promise<Record<string, unknown>[]>;
  highlights(camera: string, options?: { rank?: "longest" | "fastest" | "shots"; start?: Nanos; end?: Nanos; limit?: number }): Promise<Highlight[]>;
}

/** A saved rally clip (the clip's manifest) with the rally's stats (the contract's finished_rally). */
export interface Highlight {
  id: string;
  camera: string;
  start_ns: number;
  end_ns: number;
  url: string;
  sidecar_url: string;
  rally: { start_ts: number; end_ts: number; duration_s: number; shots: number; fastest_mps: number; reason: string };
  [key: string]: unknown;
}

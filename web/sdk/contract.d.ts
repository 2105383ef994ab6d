// Generated from courtside_contracts by sdk/generate_js_contract.py: do not edit.
// Regenerate with `.venv/bin/python sdk/generate_js_contract.py`.

export type ClientOp = "subscribe" | "ping";
export type MessageType = "subscribed" | "annotation" | "status" | "dropped" | "pong" | "error" | "analytics";
/** The code of a server error message. */
export type ErrorCode = "bad_json" | "bad_request" | "bad_version" | "unknown_op" | "too_large" | "forbidden" | "idle";
export type VideoMode = "jpeg" | "none";
export type Weights = "trained" | "untrained";

export declare const PROTOCOL_VERSION: 1;
export declare const SUBPROTOCOL: "courtside.v1";
export declare const BEARER_SUBPROTOCOL_PREFIX: "bearer.";
export declare const MAX_CLIENT_MESSAGE_BYTES: 16384;
export declare const MAX_SUBSCRIBE_NAMES: 256;
export declare const OPS: { readonly subscribe: "subscribe"; readonly ping: "ping" };
export declare const MESSAGE_TYPES: readonly MessageType[];
export declare const ERROR_CODES: Readonly<Record<ErrorCode, string>>;
export declare const VIDEO_MODES: readonly VideoMode[];
export declare const WEIGHTS: readonly Weights[];
export declare const VIDEO_HEADER: { readonly version: 1; readonly seqOffset: 0; readonly tsOffset: 8; readonly widthOffset: 16; readonly heightOffset: 18; readonly fixedBytes: 20 };

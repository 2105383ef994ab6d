// Generated from courtside_contracts by sdk/generate_js_contract.py: do not edit.
// Regenerate with `.venv/bin/python sdk/generate_js_contract.py`.

export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = "courtside.v1";
export const BEARER_SUBPROTOCOL_PREFIX = "bearer.";
export const MAX_CLIENT_MESSAGE_BYTES = 16384;
export const MAX_SUBSCRIBE_NAMES = 256;
export const OPS = Object.freeze({"subscribe": "subscribe", "ping": "ping"});
export const MESSAGE_TYPES = Object.freeze(["subscribed", "annotation", "status", "dropped", "pong", "error", "analytics"]);
export const ERROR_CODES = Object.freeze({
  "bad_json": "the message is not valid JSON",
  "bad_request": "a field is missing or wrong (names, video mode, a binary message)",
  "bad_version": "the protocol version is not 1",
  "unknown_op": "the op is neither subscribe nor ping",
  "too_large": "the message exceeds 16384 bytes",
  "forbidden": "the token may not see a camera that was asked for",
  "idle": "no subscribe arrived in time"
});
export const VIDEO_MODES = Object.freeze(["jpeg", "none"]);
export const WEIGHTS = Object.freeze(["trained", "untrained"]);
/** Binary video message: u8 version, u8 camera length N, N bytes camera, then the fixed
 * fields (big-endian) at these offsets from the end of the camera id, then the JPEG. */
export const VIDEO_HEADER = Object.freeze({"version": 1, "seqOffset": 0, "tsOffset": 8, "widthOffset": 16, "heightOffset": 18, "fixedBytes": 20});

"""Write the JS SDK's contract constants from ``courtside_contracts``: ``web/sdk/contract.js`` and
``web/sdk/contract.d.ts``.

    .venv/bin/python sdk/generate_js_contract.py          # rewrite both files
    .venv/bin/python sdk/generate_js_contract.py --check  # exit 1 when they are out of date

The browser SDK (``web/sdk/courtside.js``) imports its protocol version, subprotocol names, ops,
message types, error codes and binary video header layout from ``contract.js`` and never spells
them itself; tests/sdk/test_js_package.py fails when the generated files differ from this output.
Standard library and ``courtside_contracts`` only.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

from courtside_contracts import ws
from courtside_contracts.annotations import WEIGHTS_STATES

WEB_SDK = Path(__file__).resolve().parents[1] / "web" / "sdk"
HEADER = ("// Generated from courtside_contracts by sdk/generate_js_contract.py: do not edit.\n"
          "// Regenerate with `.venv/bin/python sdk/generate_js_contract.py`.\n")


def _js(value: object) -> str:
    return json.dumps(value)


def _union(values: Iterable[str]) -> str:
    return " | ".join(_js(v) for v in values)


def video_header_layout() -> dict[str, int]:
    """Byte offsets of the fixed fields, counted from the end of the camera id, and their total size."""
    layout: dict[str, int] = {}
    order, codes = ws.VIDEO_FIXED_FORMAT[0], ws.VIDEO_FIXED_FORMAT[1:]
    for i, name in enumerate(ws.VIDEO_FIXED_FIELDS):
        layout[f"{name}Offset"] = struct.calcsize(order + codes[:i])
    layout["fixedBytes"] = struct.calcsize(ws.VIDEO_FIXED_FORMAT)
    return layout


def contract_js() -> str:
    layout = {"version": ws.PROTOCOL_VERSION, **video_header_layout()}
    lines = [
        HEADER,
        f"export const PROTOCOL_VERSION = {ws.PROTOCOL_VERSION};",
        f"export const SUBPROTOCOL = {_js(ws.SUBPROTOCOL)};",
        f"export const BEARER_SUBPROTOCOL_PREFIX = {_js(ws.BEARER_SUBPROTOCOL_PREFIX)};",
        f"export const MAX_CLIENT_MESSAGE_BYTES = {ws.MAX_CLIENT_MESSAGE_BYTES};",
        f"export const MAX_SUBSCRIBE_NAMES = {ws.MAX_SUBSCRIBE_NAMES};",
        f"export const OPS = Object.freeze({_js({op: op for op in ws.CLIENT_OPS})});",
        f"export const MESSAGE_TYPES = Object.freeze({_js(list(ws.SERVER_MESSAGE_TYPES))});",
        f"export const ERROR_CODES = Object.freeze({json.dumps(dict(ws.ERROR_CODES), indent=2)});",
        f"export const VIDEO_MODES = Object.freeze({_js(list(ws.VIDEO_MODES))});",
        f"export const WEIGHTS = Object.freeze({_js(sorted(WEIGHTS_STATES))});",
        "/** Binary video message: u8 version, u8 camera length N, N bytes camera, then the fixed",
        " * fields (big-endian) at these offsets from the end of the camera id, then the JPEG. */",
        f"export const VIDEO_HEADER = Object.freeze({_js(layout)});",
    ]
    return "\n".join(lines) + "\n"


def contract_dts() -> str:
    layout = {"version": ws.PROTOCOL_VERSION, **video_header_layout()}
    ops = "; ".join(f"readonly {op}: {_js(op)}" for op in ws.CLIENT_OPS)
    header = "; ".join(f"readonly {k}: {v}" for k, v in layout.items())
    lines = [
        HEADER,
        f"export type ClientOp = {_union(ws.CLIENT_OPS)};",
        f"export type MessageType = {_union(ws.SERVER_MESSAGE_TYPES)};",
        "/** The code of a server error message. */",
        f"export type ErrorCode = {_union(ws.ERROR_CODES)};",
        f"export type VideoMode = {_union(ws.VIDEO_MODES)};",
        f"export type Weights = {_union(sorted(WEIGHTS_STATES))};",
        "",
        f"export declare const PROTOCOL_VERSION: {ws.PROTOCOL_VERSION};",
        f"export declare const SUBPROTOCOL: {_js(ws.SUBPROTOCOL)};",
        f"export declare const BEARER_SUBPROTOCOL_PREFIX: {_js(ws.BEARER_SUBPROTOCOL_PREFIX)};",
        f"export declare const MAX_CLIENT_MESSAGE_BYTES: {ws.MAX_CLIENT_MESSAGE_BYTES};",
        f"export declare const MAX_SUBSCRIBE_NAMES: {ws.MAX_SUBSCRIBE_NAMES};",
        f"export declare const OPS: {{ {ops} }};",
        "export declare const MESSAGE_TYPES: readonly MessageType[];",
        "export declare const ERROR_CODES: Readonly<Record<ErrorCode, string>>;",
        "export declare const VIDEO_MODES: readonly VideoMode[];",
        "export declare const WEIGHTS: readonly Weights[];",
        f"export declare const VIDEO_HEADER: {{ {header} }};",
    ]
    return "\n".join(lines) + "\n"


def generated() -> dict[Path, str]:
    """Each generated file and the text it must hold."""
    return {WEB_SDK / "contract.js": contract_js(), WEB_SDK / "contract.d.ts": contract_dts()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether the files are up to date")
    args = parser.parse_args(argv)
    stale = [path for path, text in generated().items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path} is out of date: run sdk/generate_js_contract.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated().items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

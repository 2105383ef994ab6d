"""The JS SDK as a package: its contract constants are generated from ``courtside_contracts``, and a
front-end project installs it from the repository path and imports it by name (Node ESM and
TypeScript), getting the same protocol the Python contract speaks."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from courtside_contracts import ws
from courtside_contracts.ws import VideoHeader, pack_video, ping_message, subscribe_message
from nats.aio.client import Client as NATS

from courtside.config import CourtsideConfig
from fanout.limits import Limits
from fanout.testing import make_annotation, publish_annotation, running_fanout

REPO = Path(__file__).resolve().parents[2]
SDK_DIR = REPO / "web" / "sdk"
TSC = REPO / "node_modules" / "typescript" / "bin" / "tsc"  # scripts/bootstrap installs it (package.json)

#: What a project's code does with the package: import it by name, use the builders and the parser.
PROJECT_MAIN = textwrap.dedent("""
    import * as sdk from "@courtside/client";
    import * as contract from "@courtside/client/contract";
    const packed = Uint8Array.from(Buffer.from(process.argv[2], "base64"));
    const frame = sdk.unpackVideo(packed);
    console.log(JSON.stringify({
      exports: Object.keys(sdk).sort(),
      contractExports: Object.keys(contract).sort(),
      same: sdk.OPS === contract.OPS,
      constants: {PROTOCOL_VERSION: sdk.PROTOCOL_VERSION, SUBPROTOCOL: sdk.SUBPROTOCOL,
                  BEARER_SUBPROTOCOL_PREFIX: sdk.BEARER_SUBPROTOCOL_PREFIX, OPS: sdk.OPS,
                  MESSAGE_TYPES: sdk.MESSAGE_TYPES, ERROR_CODES: sdk.ERROR_CODES, VIDEO_HEADER: sdk.VIDEO_HEADER},
      subscribeAll: sdk.subscribeMessage(),
      subscribe: sdk.subscribeMessage({cameras: ["c1"], models: ["yolo"], video: "jpeg"}),
      ping: sdk.pingMessage("n-1"),
      bearer: sdk.bearerSubprotocol("tok"),
      frame: {camera: frame.camera, seq: frame.seq, ts: frame.ts, width: frame.width, height: frame.height,
              jpeg: [...frame.jpeg]},
      client: typeof sdk.CourtsideClient,
    }));
""")
#: The same project in TypeScript: the package's types resolve through its "exports".
PROJECT_TS = textwrap.dedent("""
    import { CourtsideClient, ERROR_CODES, type Annotation, type ErrorCode, subscribeMessage } from "@courtside/client";
    const code: ErrorCode = "forbidden";
    const text: string = subscribeMessage({ cameras: ["c1"], video: "jpeg" });
    const client = new CourtsideClient({ url: "ws://127.0.0.1:8000/ws", cameras: ["c1"] });
    const off: () => void = client.on("annotation", (a: Annotation) => console.log(a.objects.length, a.weights));
    console.log(code, text, ERROR_CODES[code], off);
""")
#: The package in Node (20's WebSocket is behind --experimental-websocket) against a live fanout,
#: the token carried as the bearer subprotocol.
PROJECT_STREAM = textwrap.dedent("""
    import { CourtsideClient } from "@courtside/client";
    const [url, token] = process.argv.slice(2);
    const seen = { opens: [], subscribed: [], annotations: [] };
    const client = new CourtsideClient({ url, token, cameras: ["c1"], models: ["yolo"], minBackoffMs: 50 });
    client.on("open", (d) => seen.opens.push(d.protocol));
    client.on("subscribed", (d) => seen.subscribed.push(d));
    client.on("error", (e) => { console.error(JSON.stringify(e)); process.exit(2); });
    client.on("annotation", (a) => {
      seen.annotations.push([a.camera, a.model, a.seq]);
      if (seen.annotations.length === 3) { client.close(); console.log(JSON.stringify(seen)); process.exit(0); }
    });
    client.connect();
    setTimeout(() => { console.error("timed out: " + JSON.stringify(seen)); process.exit(3); }, 20000);
""")
PROJECT_TS_WRONG = 'import { subscribeMessage } from "@courtside/client";\nsubscribeMessage({ video: "mp4" });\n'


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_js_contract", REPO / "sdk" / "generate_js_contract.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_contract_files_are_up_to_date() -> None:
    for path, text in _generator().generated().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run .venv/bin/python sdk/generate_js_contract.py")


def test_the_sdk_spells_no_contract_name_itself() -> None:
    """courtside.js takes the contract's names from contract.js, never as its own literals."""
    source = (SDK_DIR / "courtside.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)  # comments may name them
    assert "import {" in code and "CourtsideClient" in code
    for literal in ('"courtside.v1"', '"bearer.', 'op: "subscribe"', 'op: "ping"'):
        assert literal not in code, literal


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A front-end project with the SDK installed from the repository path (packed, as from a registry)."""
    npm = shutil.which("npm")
    assert npm, "npm is missing (Node 20 + npm are part of the test machine)"
    root = tmp_path_factory.mktemp("js-project")
    (root / "package.json").write_text(json.dumps({"name": "court-app", "private": True, "type": "module"}))
    result = subprocess.run([npm, "install", "--offline", "--install-links", "--no-audit", "--no-fund",
                             "--no-package-lock", str(SDK_DIR)], cwd=root, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    installed = root / "node_modules" / "@courtside" / "client"
    assert installed.is_dir() and not installed.is_symlink(), "npm linked the folder instead of installing it"
    assert sorted(p.name for p in installed.iterdir()) == sorted(
        ["package.json", *json.loads((SDK_DIR / "package.json").read_text())["files"]])
    return root


def test_a_project_imports_the_package_by_name(project: Path) -> None:
    packed = pack_video(VideoHeader("court-7", 2**40 + 3, 1_795_000_000_123_456_789, 1280, 720), b"\xff\xd8JPEG")
    (project / "main.js").write_text(PROJECT_MAIN)
    result = subprocess.run(["node", "main.js", base64.b64encode(packed).decode()], cwd=project,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    assert {"CourtsideClient", "unpackVideo", "subscribeMessage", "pingMessage", "bearerSubprotocol",
            "backoffDelay", "defaultWsUrl"} <= set(out["exports"])
    assert set(out["contractExports"]) <= set(out["exports"]) and out["same"] and out["client"] == "function"
    assert out["constants"] == {
        "PROTOCOL_VERSION": ws.PROTOCOL_VERSION, "SUBPROTOCOL": ws.SUBPROTOCOL,
        "BEARER_SUBPROTOCOL_PREFIX": ws.BEARER_SUBPROTOCOL_PREFIX, "OPS": {op: op for op in ws.CLIENT_OPS},
        "MESSAGE_TYPES": list(ws.SERVER_MESSAGE_TYPES), "ERROR_CODES": dict(ws.ERROR_CODES),
        "VIDEO_HEADER": {"version": ws.PROTOCOL_VERSION, "seqOffset": 0, "tsOffset": 8, "widthOffset": 16,
                         "heightOffset": 18, "fixedBytes": ws.VIDEO_FIXED_BYTES}}
    # The JS builders send what the Python builders send, and what the server parses.
    assert json.loads(out["subscribeAll"]) == json.loads(subscribe_message())
    assert json.loads(out["subscribe"]) == json.loads(subscribe_message(["c1"], ["yolo"], "jpeg"))
    assert ws.parse_client_message(out["subscribe"]) == ws.Subscribe(("c1",), ("yolo",), "jpeg")
    assert json.loads(out["ping"]) == json.loads(ping_message("n-1"))
    assert ws.bearer_from_subprotocols([out["bearer"]]) == "tok"
    frame = out["frame"]
    assert (frame["camera"], frame["seq"], frame["width"], frame["height"]) == ("court-7", 2**40 + 3, 1280, 720)
    assert abs(frame["ts"] - 1_795_000_000_123_456_789) < 1000 and bytes(frame["jpeg"]) == b"\xff\xd8JPEG"


def test_a_typescript_project_gets_the_types(project: Path) -> None:
    assert TSC.is_file(), "TypeScript is missing: scripts/bootstrap installs it (npm ci)"
    options = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext",
               "--target", "es2022", "--lib", "es2022,dom"]
    (project / "app.ts").write_text(PROJECT_TS)
    (project / "wrong.ts").write_text(PROJECT_TS_WRONG)
    result = subprocess.run(["node", str(TSC), *options, "app.ts", "wrong.ts"], cwd=project, capture_output=True,
                            text=True, timeout=120, check=False)
    errors = [line for line in result.stdout.splitlines() if "error TS" in line]
    # One run for both (tsc takes seconds to start): the right use passes, the wrong one is caught.
    assert len(errors) == 1 and errors[0].startswith("wrong.ts") and '"mp4"' in errors[0], result.stdout


async def test_the_installed_package_streams_from_a_live_fanout_in_node(project: Path, nats_server: Any,
                                                                       nc: NATS) -> None:
    token = "js-package-token-0123456789abcdef"  # noqa: S105 - a test token
    config = CourtsideConfig.model_validate({
        "fanout": {"port": 0}, "auth": {"enabled": True, "tokens": [{"token": token, "cameras": ["c1"]}]}})

    async def feed() -> None:
        seq = 0
        while True:
            seq += 1
            for camera in ("c1", "c2"):  # c2 is outside the token's grant: never delivered
                await publish_annotation(nc, make_annotation(camera, "yolo", seq))
            await asyncio.sleep(1 / 30)

    (project / "stream.js").write_text(PROJECT_STREAM)
    async with running_fanout(config, nats_server.url, limits=Limits(status_interval_s=0.5, shutdown_timeout_s=2)) \
            as fanout:
        feeder = asyncio.create_task(feed())
        try:
            proc = await asyncio.create_subprocess_exec(
                "node", "--experimental-websocket", "--no-warnings", "stream.js", fanout.ws_url, token, cwd=project,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 40)
        finally:
            feeder.cancel()
    assert proc.returncode == 0, err.decode()
    seen = json.loads(out)
    assert seen["opens"] == [ws.SUBPROTOCOL]  # the bearer subprotocol is never echoed
    assert seen["subscribed"] == [{"cameras": ["c1"], "models": ["yolo"], "video": "none"}]
    assert [a[:2] for a in seen["annotations"]] == [["c1", "yolo"]] * 3

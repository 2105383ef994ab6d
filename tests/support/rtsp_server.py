"""A real RTSP server for tests: GStreamer's gst-rtsp-server, run as its own process.

The GObject bindings belong to Debian's ``/usr/bin/python3`` (python3-gi,
gir1.2-gst-rtsp-server-1.0), not to the venv, so this file is two things:

* run by ``/usr/bin/python3`` it *is* the server (``serve()``): a shared media
  factory looping an Annex-B H.264 file in real time without re-encoding,
  bound to 127.0.0.1, optionally behind basic auth;
* imported by the tests (venv Python) it offers :class:`RtspServer`, which
  starts, kills and restarts that process.

The pipeline avoids the three traps measured in FACTS.md: ``identity sync=true``
(else 200+ fps), a probe copying DTS into PTS after ``h264parse`` (else clients
take ~4.7 s to open), and ``config-interval=1`` with one-slice frames (else
keyframes split and readers see 33 fps).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

SYSTEM_PYTHON = "/usr/bin/python3"


def system_rtsp_available() -> bool:
    """True when Debian's Python has the GStreamer RTSP server bindings (scripts/bootstrap test)."""
    if not Path(SYSTEM_PYTHON).is_file():
        return False
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=30).returncode == 0


class RtspServer:
    """The server process serving ``h264_file`` at ``rtsp://127.0.0.1:<port><path>``."""

    def __init__(self, h264_file: Path, port: int, *, path: str = "/live", fps: int = 30,
                 user: str | None = None, password: str | None = None) -> None:
        self.h264_file = Path(h264_file)
        self.port = port
        self.path = path
        self.fps = fps
        self.user = user
        self.password = password
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, *, path: str | None = None, credentials: tuple[str, str] | None = None) -> str:
        auth = f"{credentials[0]}:{credentials[1]}@" if credentials else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}{path or self.path}"

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the process and wait until the port accepts connections."""
        args = [SYSTEM_PYTHON, __file__, "--file", str(self.h264_file), "--port", str(self.port),
                "--path", self.path, "--fps", str(self.fps)]
        if self.user is not None and self.password is not None:
            args += ["--user", self.user, "--password", self.password]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self._proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"RTSP server exited at start ({self._proc.returncode}): {err[-800:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"RTSP server did not listen on port {self.port} within {timeout_s} s")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(3)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-stream, like a camera losing power."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def pause(self) -> None:
        """SIGSTOP: the server hangs with its sockets open."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def __enter__(self) -> RtspServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.resume()
        self.stop()


def serve(h264_file: str, port: int, path: str, fps: int, user: str | None, password: str | None) -> None:
    """The server itself (Debian's python3 only)."""
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    launch = (f'( multifilesrc location="{h264_file}" loop=true '
              f'caps="video/x-h264,stream-format=byte-stream,alignment=au,framerate={fps}/1" '
              "! h264parse name=parse ! identity sync=true "
              "! rtph264pay name=pay0 pt=96 config-interval=1 )")

    def dts_to_pts(_pad: object, info: object) -> object:
        buf = info.get_buffer()  # type: ignore[attr-defined]
        if buf.pts == Gst.CLOCK_TIME_NONE:
            buf.pts = buf.dts
        return Gst.PadProbeReturn.OK

    def on_configure(_factory: object, media: object) -> None:
        parse = media.get_element().get_by_name("parse")  # type: ignore[attr-defined]
        parse.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, dts_to_pts)

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.connect("media-configure", on_configure)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    if user is not None and password is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("user", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role("user", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(path, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot bind RTSP server on 127.0.0.1:{port}")

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print("READY", flush=True)
    loop.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True, help="Annex-B H.264 file (one slice per frame)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/live")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--user")
    parser.add_argument("--password")
    a = parser.parse_args()
    serve(a.file, a.port, a.path, a.fps, a.user, a.password)

"""Helpers to run test servers and to wait on conditions with deadlines."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SCRIPT = Path(__file__).with_name("rtsp_server.py")


def wait_until(
    condition: Callable[[], object], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll ``condition`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


class RtspServer:
    """GStreamer's RTSP server (tests/sources/rtsp_server.py) as a subprocess."""

    def __init__(self, port: int, mount: str = "/cam") -> None:
        self.port = port
        self.mount = mount
        self.url = f"rtsp://127.0.0.1:{port}{mount}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server; raise RuntimeError (with its stderr) if it does not listen."""
        command = [SYSTEM_PYTHON, str(RTSP_SCRIPT), "--port", str(self.port), "--mount", self.mount]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while not port_accepts(self.port):
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"RTSP server exited: {stderr.strip()[-500:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"RTSP server did not listen on {self.port} in {timeout} s")
            time.sleep(0.02)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the server (SIGSTOP freezes it, SIGCONT thaws it)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signum)

    def kill(self) -> None:
        """Kill the server at once (like a camera losing power) and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(5)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None


def rtsp_unavailable_reason() -> str | None:
    """Why the GStreamer RTSP server cannot run here, or None when it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (GStreamer RTSP server needs Debian's python3-gi)"
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
        "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
        "import sys; sys.exit(0 if Gst.ElementFactory.find('x264enc') else 3)"
    )
    result = subprocess.run(
        [SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=30, check=False
    )
    if result.returncode == 3:
        return "GStreamer x264enc missing (apt-get install gstreamer1.0-plugins-ugly)"
    if result.returncode != 0:
        return (
            "GStreamer RTSP server not importable (apt-get install python3-gi "
            f"gir1.2-gst-rtsp-server-1.0): {result.stderr.decode().strip()[-300:]}"
        )
    return None

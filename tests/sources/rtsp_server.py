"""A test RTSP camera: GStreamer's RTSP server serving a numbered test pattern.

Run with Debian's python3 (python3-gi does not import in a venv)::

    /usr/bin/python3 tests/sources/rtsp_server.py --port 8554 --mount /cam

It prints ``READY rtsp://127.0.0.1:PORT/MOUNT`` once the server is attached and
serves until killed. The stream is H.264 (x264enc, zerolatency) in RTP, usable over
RTSP/TCP (interleaved) and RTSP/UDP.
"""

from __future__ import annotations

import argparse
import signal
import sys


def main() -> int:
    """Parse arguments, start the server and run the GLib main loop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", default="/cam")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    args = parser.parse_args()

    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    launch = (
        f"( videotestsrc is-live=true pattern=ball ! "
        f"video/x-raw,width={args.width},height={args.height},framerate={args.fps}/1 ! "
        f"timeoverlay ! "
        f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps} ! "
        f"rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    if not Gst.ElementFactory.find("timeoverlay"):
        launch = launch.replace("timeoverlay ! ", "")
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 2
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    print(f"READY rtsp://127.0.0.1:{args.port}{args.mount}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

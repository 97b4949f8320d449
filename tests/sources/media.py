"""Test media made on the spot: numbered clips, JPEGs, HLS, and tiny HTTP servers.

Every picture carries its frame index as a row of black/white blocks (one bit per
block, most significant first) that survives lossy compression, so a test can
tell exactly which frames a source delivered.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

BITS = 10
BAND = 48  # height of the block row carrying the index


def numbered_image(index: int, width: int = 320, height: int = 240) -> Image:
    """A BGR picture with ``index`` drawn as blocks, and a moving gradient below."""
    image = np.zeros((height, width, 3), np.uint8)
    block = width // BITS
    for bit in range(BITS):
        if index >> (BITS - 1 - bit) & 1:
            image[:BAND, bit * block : (bit + 1) * block] = 255
    ramp = (np.arange(width, dtype=np.int32) * 2 + index * 7) % 256
    image[BAND:, :, 1] = ramp.astype(np.uint8)[None, :]
    return image


def read_index(image: Image) -> int:
    """The index drawn by ``numbered_image`` (works after scaling and compression)."""
    height, width = image.shape[:2]
    band = image[: max(1, height * BAND // 240)]
    block = width // BITS
    value = 0
    for bit in range(BITS):
        cell = band[:, bit * block + block // 4 : (bit + 1) * block - block // 4]
        value = value << 1 | int(cell.mean() > 128)
    return value


def make_clip(
    path: Path,
    *,
    fps: int = 25,
    seconds: float = 4.0,
    gop: int = 25,
    size: tuple[int, int] = (320, 240),
    faststart: bool = False,
) -> Path:
    """Encode an H.264 MP4 of numbered frames with a fixed GOP (keyframe every ``gop``)."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
            "preset": "ultrafast",
        }
        for index in range(round(fps * seconds)):
            frame = av.VideoFrame.from_ndarray(numbered_image(index, *size), format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_hls(folder: Path, *, fps: int = 25, seconds: float = 3.0) -> Path:
    """Write a VOD HLS playlist (1 s segments) of numbered frames; return the .m3u8."""
    folder.mkdir(parents=True, exist_ok=True)
    playlist = folder / "index.m3u8"
    options = {"hls_time": "1", "hls_list_size": "0", "hls_playlist_type": "vod"}
    with av.open(str(playlist), "w", format="hls", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = 320, 240
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"x264-params": f"keyint={fps}:scenecut=0"}
        for index in range(round(fps * seconds)):
            frame = av.VideoFrame.from_ndarray(numbered_image(index), format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return playlist


def jpeg(index: int, width: int = 320, height: int = 240) -> bytes:
    """A numbered picture as JPEG bytes."""
    ok, data = cv2.imencode(".jpg", numbered_image(index, width, height))
    assert ok
    return bytes(data.tobytes())


class _MjpegHandler(http.server.BaseHTTPRequestHandler):
    """Serves numbered JPEGs as multipart/x-mixed-replace, like an IP camera."""

    fps = 20.0

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        index = 0
        try:
            while True:
                body = jpeg(index)
                self.wfile.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                    + b"\r\n"
                )
                self.wfile.flush()
                index += 1
                time.sleep(1.0 / self.fps)
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, format: str, *args: object) -> None:
        return


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def serve(
    handler: type[http.server.BaseHTTPRequestHandler]
    | functools.partial[http.server.SimpleHTTPRequestHandler],
) -> Iterator[str]:
    """Run an HTTP server on a free 127.0.0.1 port in a thread; yield its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def serve_mjpeg() -> contextlib.AbstractContextManager[str]:
    """An MJPEG camera at the yielded base URL (any path)."""
    return serve(_MjpegHandler)


def serve_folder(folder: Path) -> contextlib.AbstractContextManager[str]:
    """Static files of ``folder`` at the yielded base URL."""
    return serve(functools.partial(_QuietFiles, directory=str(folder)))

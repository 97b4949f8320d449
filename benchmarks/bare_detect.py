"""The baseline of the detection benchmark: what a user would write by hand.

Decode a clip with PyAV, keep ``fps`` frames a second, letterbox each kept frame to
the model's input and run it through an ONNX Runtime session, one after another.

    python -m benchmarks.bare_detect CLIP MODEL --fps 5
"""

from __future__ import annotations

import argparse

import av
import cv2
import numpy as np
import onnxruntime as ort


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clip")
    parser.add_argument("model")
    parser.add_argument("--fps", type=float, default=5.0)
    args = parser.parse_args()
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    _, _, height, width = session.get_inputs()[0].shape
    canvas = np.full((height, width, 3), 114, np.uint8)
    due, kept = 0.0, 0
    with av.open(args.clip) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if (frame.time or 0.0) + 1e-6 < due:
                continue
            due += 1.0 / args.fps
            image = frame.to_ndarray(format="bgr24")
            scale = min(width / image.shape[1], height / image.shape[0])
            w, h = round(image.shape[1] * scale), round(image.shape[0] * scale)
            top, left = (height - h) // 2, (width - w) // 2  # centred, as the model was trained
            canvas[:] = 114
            canvas[top : top + h, left : left + w] = cv2.resize(
                image, (w, h), interpolation=cv2.INTER_AREA
            )
            blob = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255
            session.run(None, {name: blob})
            kept += 1
    print(kept)


if __name__ == "__main__":
    main()

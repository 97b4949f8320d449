"""The motion gate: finds what changed in a frame, so idle frames can skip inference.

The background is a running average of small, grey, blurred copies of the frames.
Each frame is compared with it after dividing out the global gain (the median of the
per-pixel ratio frame / background, which objects covering less than half the
picture do not move), so drifting daylight is not motion. A sudden lighting change
(the gain jumps, or most of the picture changes at once) rebuilds the background
instead of firing. Where motion is found the background learns ten times slower, so
a parcel crossing the belt is not absorbed into it; a region that stays "moving" for
``hold_frames`` (a ghost, or something that stopped) is learnt at the normal rate.

>>> import numpy as np
>>> gate = MotionGate()
>>> still = np.full((720, 1280, 3), 120, np.uint8)
>>> gate.update(still).has_motion
False
>>> moved = still.copy(); moved[300:420, 600:700] = 20
>>> result = gate.update(moved)
>>> result.has_motion, result.boxes.tolist()
(True, [[576.0, 280.0, 720.0, 440.0]])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.config.models import MotionConfig
from sightwire.core.frame import Frame, Image

Boxes = npt.NDArray[np.float32]
Grey = npt.NDArray[np.float32]
Mask = npt.NDArray[np.uint8]

FOREGROUND_RATE = 0.1
"""Share of the learning rate used where motion was found."""
KEEP_SHARE = 0.1
"""After a lighting change, objects may keep their old background if they cover at
most this share of the picture."""
SATURATED = 224.0
"""Blurred grey level above which a brightened background cannot be predicted."""
DARK_FLOOR = 16.0
"""Grey levels below this count as this level when comparing brightness, so sensor
noise in the dark is no lighting change."""


def _no_boxes() -> Boxes:
    return np.zeros((0, 4), np.float32)


@dataclass(frozen=True, slots=True)
class MotionResult:
    """What the gate saw in one frame.

    ``boxes`` are ``(N, 4)`` xyxy in pixels of the frame given to the gate;
    ``changed_share`` is the share of the picture that changed (after gain
    compensation); ``recalibrated`` is true when the background was rebuilt from this
    frame (the first frame, a new frame size, or a lighting change): then
    ``has_motion`` is false.
    """

    has_motion: bool
    boxes: Boxes = field(default_factory=_no_boxes)
    changed_share: float = 0.0
    recalibrated: bool = False


class MotionGate:
    """Decides per frame whether anything moved, and where.

    ``lighting_jump`` is the relative change of global brightness between two frames
    that means the lights changed (switching gives 30-50 %, automatic exposure up to
    about 10 %); ``hold_frames`` is how long a region may keep "moving" before the
    background learns it at the normal rate.

    >>> from sightwire.config.models import MotionConfig
    >>> gate = MotionGate(MotionConfig(width=160, threshold=25))
    >>> result = gate(frame)  # doctest: +SKIP
    >>> if result.has_motion: run_inference(frame, regions=result.boxes)  # doctest: +SKIP
    """

    def __init__(
        self,
        config: MotionConfig | None = None,
        *,
        lighting_jump: float = 0.2,
        hold_frames: int = 50,
    ) -> None:
        self.config = config or MotionConfig()
        self.lighting_jump = lighting_jump
        self.hold_frames = hold_frames
        self._background: Grey | None = None
        self._held: npt.NDArray[np.uint16] | None = None
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def __call__(self, frame: Frame) -> MotionResult:
        """Gate one frame (see ``update``)."""
        return self.update(frame.image)

    def reset(self) -> None:
        """Forget the background: the next frame rebuilds it."""
        self._background = None

    def update(self, image: Image) -> MotionResult:
        """Compare ``image`` (BGR or grey) with the background, then learn from it."""
        height, width = image.shape[:2]
        if not self.config.enabled:
            return MotionResult(True, np.array([[0, 0, width, height]], np.float32), 1.0)
        grey = self._small_grey(image)
        background = self._background
        if background is None or background.shape != grey.shape:
            return self._recalibrate(grey)
        gain = _gain(grey, background)
        if abs(gain - 1.0) > self.lighting_jump:
            return self._relight(grey, background, gain)
        compensated = grey if abs(gain - 1.0) < 0.005 else grey * np.float32(1.0 / gain)
        changed = np.asarray(cv2.absdiff(compensated, background) > self.config.threshold, np.uint8)
        share = float(np.count_nonzero(changed)) / changed.size
        if share > self.config.lighting_change:
            return self._recalibrate(grey)
        moving = np.asarray(cv2.dilate(changed, self._kernel, iterations=2), np.uint8)
        self._learn(grey, moving)
        boxes = self._boxes(moving, scale=(width / grey.shape[1], height / grey.shape[0]))
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, width)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, height)
        return MotionResult(len(boxes) > 0, boxes, share)

    def _small_grey(self, image: Image) -> Grey:
        """Downscaled to the model width, grey and blurred: cheap and free of noise."""
        small = _shrink(image, min(self.config.width, image.shape[1]))
        if small.ndim == 3:
            small = np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), np.uint8)
        return np.asarray(cv2.GaussianBlur(small.astype(np.float32), (5, 5), 0), np.float32)

    def _recalibrate(self, grey: Grey) -> MotionResult:
        self._background = grey.copy()
        self._held = np.zeros(grey.shape, np.uint16)
        return MotionResult(False, _no_boxes(), 0.0, recalibrated=True)

    def _relight(self, grey: Grey, background: Grey, gain: float) -> MotionResult:
        """The lights changed: take this frame as the background, except where it
        differs from the old background brightened by ``gain`` (objects in view now),
        so they leave no ghost. If much differs, the change was not a plain gain:
        take the whole frame."""
        expected = background * np.float32(gain)
        # Where the brighter picture saturates, clipping (before our blur) makes any
        # comparison unreliable: take the new frame there.
        differs = np.asarray(
            (cv2.absdiff(grey, expected) > self.config.threshold) & (expected < SATURATED), np.uint8
        )
        if np.count_nonzero(differs) > KEEP_SHARE * differs.size:
            return self._recalibrate(grey)
        keep = cv2.dilate(differs, self._kernel, iterations=2) > 0
        return self._recalibrate(np.where(keep, expected, grey).astype(np.float32))

    def _learn(self, grey: Grey, moving: Mask) -> None:
        """Blend the frame into the background: slowly where something moves (unless
        it has done so for ``hold_frames``), at the learning rate elsewhere."""
        assert self._background is not None and self._held is not None
        held = np.where(moving > 0, np.minimum(self._held, 65534) + 1, 0).astype(np.uint16)
        self._held = held
        slow = np.asarray((moving > 0) & (held <= self.hold_frames), np.uint8)
        rate = self.config.learning_rate
        cv2.accumulateWeighted(grey, self._background, rate, mask=1 - slow)
        cv2.accumulateWeighted(grey, self._background, rate * FOREGROUND_RATE, mask=slow)

    def _boxes(self, moving: Mask, scale: tuple[float, float]) -> Boxes:
        """Boxes of the moving regions big enough to count, in full-frame pixels, merged."""
        count, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        least = self.config.min_area * moving.size
        found = [s[:4] for s in stats[1:count] if s[4] >= least]
        if not found:
            return _no_boxes()
        xywh = np.asarray(found, np.float32)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        boxes *= np.array([scale[0], scale[1], scale[0], scale[1]], np.float32)
        return merge_boxes(boxes)


def _gain(grey: Grey, background: Grey) -> float:
    """Global brightness of ``grey`` relative to ``background``: the median of their
    per-pixel ratio over every other pixel, unmoved by objects on less than half."""
    now = np.maximum(grey[::2, ::2], DARK_FLOOR)
    before = np.maximum(background[::2, ::2], DARK_FLOOR)
    return float(np.median(now / before))


def _shrink(image: Image, width: int) -> Image:
    """Area-average ``image`` down to ``width`` (aspect kept): halving steps first,
    which OpenCV does about twice as fast as one large step."""
    while image.shape[1] >= 2 * width:
        half = (image.shape[1] // 2, image.shape[0] // 2)
        image = np.asarray(cv2.resize(image, half, interpolation=cv2.INTER_AREA), np.uint8)
    if image.shape[1] != width:
        height = max(1, round(image.shape[0] * width / image.shape[1]))
        image = np.asarray(
            cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8
        )
    return image


def merge_boxes(boxes: Boxes) -> Boxes:
    """Merge overlapping (or touching) xyxy boxes until none overlap.

    >>> merge_boxes(np.array([[0, 0, 10, 10], [5, 5, 20, 20], [30, 30, 40, 40]],
    ...                      np.float32)).tolist()
    [[0.0, 0.0, 20.0, 20.0], [30.0, 30.0, 40.0, 40.0]]
    """
    merged = [[float(v) for v in box] for box in boxes]
    changed = True
    while changed:
        changed = False
        for i, j in combinations(range(len(merged)), 2):
            a, b = merged[i], merged[j]
            if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                merged[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                del merged[j]
                changed = True
                break
    return np.asarray(merged, np.float32).reshape(-1, 4)

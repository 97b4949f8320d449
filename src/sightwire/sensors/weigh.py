"""The ``weigh`` step: each tracked object gets the scale reading taken when it was on
the scale, joined by time.

The scale sits at one of the camera's lines (``line``; or ``offset_s`` further along
the belt, in time). When an object's centre crosses that line, the moment is
interpolated between the two frames around it; the reading nearest that moment plus
``offset_s`` (within ``window_s``) is the object's weight. A reading may arrive
after the crossing (a scale settles, a network lags): the join is tried again on
every later frame until one is found. Objects of the class get the data column
``weight_kg`` (NaN until joined), the others NaN.

Times are the frames' capture times (``clock: wall``, a live camera and a scale
stamping epoch seconds or stamped on arrival) or their ``pts`` (``clock: stream``).

>>> import numpy as np
>>> from sightwire.config.sensors import ScaleConfig, WeighOptions
>>> from sightwire.core import Detections, Frame
>>> readings = ReadingBuffer()
>>> readings.add(1.05, 7.25)
>>> step = WeighAnalyser(WeighOptions(scale="s", within="parcel", line="scale"),
...                      [[100, 0], [100, 400]], ScaleConfig(host="-", topic="t", clock="stream"),
...                      readings=readings)
>>> def at(x, t):
...     parcel = Detections(np.array([[x - 50, 100, x + 50, 200]]), [0.9], [0], tracker_id=[3],
...                         data={"class_name": np.array(["parcel"])})
...     return step.analyse(Frame("belt-1", 0, 0.0, t, np.zeros((400, 640, 3), np.uint8)), parcel)
>>> at(80, 0.8).data["weight_kg"].tolist(), at(120, 1.2).data["weight_kg"].tolist()
([nan], [7.25])
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sightwire.analysis.geometry import line_offsets
from sightwire.config.sensors import ScaleConfig, WeighOptions
from sightwire.core.detections import Detections
from sightwire.core.frame import Frame
from sightwire.sensors.buffer import ReadingBuffer
from sightwire.sensors.scale import ScaleSubscriber
from sightwire.tracking.memory import TrackMemory

log = logging.getLogger("sightwire.sensors")
WEIGHT = "weight_kg"


@dataclass(slots=True)
class _Track:
    """What the step knows of one track: where it was last and when it was weighed."""

    t: float
    offset: float
    last_seen: float
    on_scale_at: float | None = None
    weight: float = float("nan")


class WeighAnalyser:
    """Joins scale readings to objects; see the module doc. ``readings`` is the buffer
    to join with; without one, the step subscribes to the scale itself (one MQTT
    connection, closed when the step is dropped)."""

    def __init__(
        self,
        options: WeighOptions,
        line: npt.ArrayLike,
        scale: ScaleConfig,
        *,
        readings: ReadingBuffer | None = None,
        forget_s: float = 10.0,
    ) -> None:
        self.options = options
        self.line = np.asarray(line, np.float64).reshape(2, 2)
        self.scale = scale
        self.forget_s = forget_s
        self.subscriber: ScaleSubscriber | None = None
        if readings is None:
            self.subscriber = ScaleSubscriber(options.scale, scale)
            if not self.subscriber.start():
                log.warning(
                    "scale %s: not subscribed yet to %s on %s:%d; weights join once it is",
                    options.scale,
                    scale.topic,
                    scale.host,
                    scale.port,
                )
            weakref.finalize(self, self.subscriber.close)
            readings = self.subscriber.buffer
        self.readings = readings
        self._tracks: TrackMemory[_Track] = TrackMemory(forget_s)

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """``detections`` with ``weight_kg`` added."""
        weights = np.full(len(detections), np.nan)
        names = detections.data.get("class_name")
        tracks = detections.tracker_id
        if names is not None and tracks is not None and len(detections):
            chosen = np.flatnonzero(np.asarray(names, dtype=str) == self.options.within)
            centres = (detections.xyxy[chosen, :2] + detections.xyxy[chosen, 2:]) / 2
            offsets = line_offsets(self.line, centres)
            now = frame.captured_at if self.scale.clock == "wall" else frame.pts
            for k, index in enumerate(chosen.tolist()):
                track = int(tracks[index])
                if track >= 0:
                    weights[index] = self._weigh((frame.camera, track), now, offsets[k], frame.pts)
        self._tracks.forget(frame.camera, frame.pts)
        return Detections(
            detections.xyxy,
            detections.confidence,
            detections.class_id,
            detections.tracker_id,
            detections.mask,
            {**detections.data, WEIGHT: weights},
        )

    def _weigh(self, key: tuple[str, int], now: float, offset: float, pts: float) -> float:
        """The track's weight after this frame (NaN until a reading is joined)."""
        track = self._tracks.get(key)
        if track is None:
            self._tracks[key] = _Track(now, offset, pts)
            return float("nan")
        if track.on_scale_at is None and np.sign(offset) != np.sign(track.offset) and offset:
            # Where between the last frame and this one the centre was on the line.
            share = track.offset / (track.offset - offset)
            track.on_scale_at = track.t + share * (now - track.t) + self.options.offset_s
        track.t, track.offset, track.last_seen = now, offset, pts
        if track.on_scale_at is not None and np.isnan(track.weight):
            found = self.readings.nearest(track.on_scale_at, self.options.window_s)
            if found is not None:
                track.weight = round(found[1], 3)
        return track.weight

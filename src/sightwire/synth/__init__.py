"""Synthetic scenes with ground truth, for tests, benchmarks and the demo.

Each ``write_*`` function encodes an H.264 MP4 and writes its ground truth beside it
(``OUT.mp4`` → ``OUT.json``), and returns that ground truth. The same arguments (and
``seed``) always give the same clip.

>>> from sightwire.synth import write_conveyor, GroundTruth
>>> truth = write_conveyor("belt.mp4", seconds=20, parcels=6)  # doctest: +SKIP
>>> GroundTruth.load("belt.json").parcels[0].tracking_number  # doctest: +SKIP
'1Z4WSJLB0018695697'
"""

from sightwire.synth.conveyor import DepthOptions, write_conveyor
from sightwire.synth.lighting import write_lighting
from sightwire.synth.static import write_static
from sightwire.synth.truth import (
    VISIBLE_SHARE,
    Box,
    GroundTruth,
    Interval,
    LightingChange,
    ManifestEntry,
    ObjectTruth,
    ParcelTruth,
    SceneInfo,
)

__all__ = [
    "VISIBLE_SHARE",
    "Box",
    "DepthOptions",
    "GroundTruth",
    "Interval",
    "LightingChange",
    "ManifestEntry",
    "ObjectTruth",
    "ParcelTruth",
    "SceneInfo",
    "write_conveyor",
    "write_lighting",
    "write_static",
]

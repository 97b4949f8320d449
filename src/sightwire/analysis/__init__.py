"""Analysis over tracked objects: zones, lines, dwell, counts, absence, stillness,
sizes and anomaly scores, reported as typed :class:`Observation` s.

One :class:`SceneAnalysis` per camera runs what the rules' triggers need;
:class:`MeasureAnalyser` is the ``measure:`` step of a camera's ``analyse`` list.

>>> # scene = SceneAnalysis("belt-1", config.cameras["belt-1"], config.rules)
>>> # observations = scene.observe(frame, detections)   # None when the gate skipped it
"""

from sightwire.analysis.anomaly import AnomalyWatch
from sightwire.analysis.counts import AbsenceWatch, CountWatch
from sightwire.analysis.lines import LineWatch
from sightwire.analysis.measure import MeasureAnalyser
from sightwire.analysis.observation import Observation, ObservedObject, objects_of
from sightwire.analysis.scene import SceneAnalysis, Watch
from sightwire.analysis.stillness import StillWatch
from sightwire.analysis.triggers import Trigger
from sightwire.analysis.view import FrameView
from sightwire.analysis.zones import ZoneWatch

__all__ = [
    "AbsenceWatch",
    "AnomalyWatch",
    "CountWatch",
    "FrameView",
    "LineWatch",
    "MeasureAnalyser",
    "Observation",
    "ObservedObject",
    "SceneAnalysis",
    "StillWatch",
    "Trigger",
    "Watch",
    "ZoneWatch",
    "objects_of",
]

"""The shared vocabulary: frames, detections, events. No I/O happens here."""

from sightwire.core.detections import Detections
from sightwire.core.event import Event, EventData
from sightwire.core.frame import Frame
from sightwire.core.ids import new_id

__all__ = ["Detections", "Event", "EventData", "Frame", "new_id"]

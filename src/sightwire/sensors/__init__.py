"""Sensors beside the cameras: belt scales read over MQTT, and the ``weigh`` step that
joins their readings to tracked objects by time.

>>> # subscriber = ScaleSubscriber("belt-scale", config.scales["belt-scale"]); subscriber.start()
>>> # subscriber.buffer.nearest(t, window_s=1.0)    # (time, kg) or None
"""

from sightwire.sensors.buffer import ReadingBuffer
from sightwire.sensors.scale import ScaleSubscriber, parse_reading
from sightwire.sensors.weigh import WeighAnalyser

__all__ = ["ReadingBuffer", "ScaleSubscriber", "WeighAnalyser", "parse_reading"]

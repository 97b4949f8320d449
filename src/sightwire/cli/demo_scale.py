"""The demo's belt scale: a simulated checkweigher publishing each parcel's weight to
the MQTT broker the logistics config names, or, with no broker, no scale at all.

>>> # config, feed = demo_scale(config, truth, console)
>>> # Runner(config, on_result=feed)    # feed publishes every reading on the first frame
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from sightwire.config import SightwireConfig
from sightwire.config.sensors import WeighStep
from sightwire.runtime.pipeline import FrameResult
from sightwire.sensors.publish import broker_reachable, publish_readings
from sightwire.synth import GroundTruth
from sightwire.synth.scale import scale_readings

ResultListener = Callable[[FrameResult], None]


def without_scales(config: SightwireConfig) -> SightwireConfig:
    """``config`` without its scales and weigh steps."""
    cameras = {
        name: camera.model_copy(
            update={"analyse": [s for s in camera.analyse if not isinstance(s, WeighStep)]}
        )
        for name, camera in config.cameras.items()
    }
    return config.model_copy(update={"cameras": cameras, "scales": {}})


def scale_feed(config: SightwireConfig, truth: GroundTruth) -> ResultListener:
    """A frame listener that, on the first frame, publishes what each scale of
    ``config`` weighs: one reading per parcel of ``truth``, stamped on the clip's
    clock when the parcel's centre passes the weigh step's line (taken as vertical)."""
    feeds: list[tuple[str, int, str, list[tuple[float, float]]]] = []
    for camera in config.cameras.values():
        for step in camera.analyse:
            if isinstance(step, WeighStep):
                scale = config.scales[step.weigh.scale]
                line_x = camera.lines[step.weigh.line][0][0]
                readings = scale_readings(truth, line_x, offset_s=step.weigh.offset_s)
                feeds.append((scale.host, scale.port, scale.topic, readings))
    sent: list[int] = []

    def on_result(_result: FrameResult) -> None:
        if not sent:  # the camera thread waits: every reading is out before frame 2
            sent.extend(publish_readings(*feed) for feed in feeds)

    return on_result


def demo_scale(
    config: SightwireConfig, truth: GroundTruth, console: Console
) -> tuple[SightwireConfig, ResultListener | None]:
    """``config`` with its scales fed by simulated readings when their brokers answer;
    else without scales (announced: weights then go unchecked)."""
    if not config.scales:
        return config, None
    missing = [s for s in config.scales.values() if not broker_reachable(s.host, s.port)]
    if missing:
        where = ", ".join(f"{s.host}:{s.port}" for s in missing)
        console.print(
            f"no MQTT broker at {where}: the belt scale is left out, so weights are not "
            "checked (start Mosquitto to include it)"
        )
        return without_scales(config), None
    if any(s.clock != "stream" for s in config.scales.values()):
        console.print("a scale on the wall clock: read as configured, nothing simulated")
        return config, None
    scales = ", ".join(f"{s.topic} on {s.host}:{s.port}" for s in config.scales.values())
    console.print(f"a simulated belt scale publishes each parcel's weight to {scales}")
    return config, scale_feed(config, truth)

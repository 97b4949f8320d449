"""A camera's ``analyse:`` list, built into analysers in the order the config gives.

>>> # analysers = build_analysers(camera_config, hub)
>>> # CameraPipeline("belt-1", camera_config, analysers)
"""

from __future__ import annotations

from sightwire.config.models import (
    BarcodeStep,
    CameraConfig,
    DetectStep,
    MeasureStep,
    OcrStep,
    TrackStep,
)
from sightwire.config.sensors import WeighStep
from sightwire.runtime.models import ModelHub
from sightwire.runtime.pipeline import Analyser


def build_analysers(camera: CameraConfig, hub: ModelHub) -> list[Analyser]:
    """One analyser per step. Readers and models load here, once, not per frame."""
    analysers: list[Analyser] = []
    for step in camera.analyse:
        analysers.append(_analyser(step, camera, hub))
    return analysers


def _analyser(
    step: DetectStep | TrackStep | BarcodeStep | OcrStep | MeasureStep | WeighStep,
    camera: CameraConfig,
    hub: ModelHub,
) -> Analyser:
    # Imported per kind: a camera without OCR never loads the OCR models.
    if isinstance(step, DetectStep):
        return _detect(step, hub)
    if isinstance(step, TrackStep):
        from sightwire.tracking import TrackAnalyser

        return TrackAnalyser(step.track)
    if isinstance(step, BarcodeStep):
        from sightwire.inference.barcode import BarcodeAnalyser

        return BarcodeAnalyser(step.barcode, zones=camera.zones)
    if isinstance(step, OcrStep):
        from sightwire.inference.ocr import OcrAnalyser
        from sightwire.inference.ocr_tracks import TrackOcrAnalyser

        if step.ocr.prefer is not None:
            return TrackOcrAnalyser(step.ocr, zones=camera.zones)
        return OcrAnalyser(step.ocr, zones=camera.zones)
    if isinstance(step, WeighStep):
        from sightwire.sensors import WeighAnalyser

        weigh = step.weigh
        return WeighAnalyser(weigh, camera.lines[weigh.line], hub.config.scales[weigh.scale])
    from sightwire.analysis import MeasureAnalyser
    from sightwire.analysis.measure import Heights

    heights = None if camera.depth is None else Heights.open(camera.depth)
    return MeasureAnalyser(step.measure, heights=heights)


def _detect(step: DetectStep, hub: ModelHub) -> Analyser:
    """The ``detect`` step. With review sampling on, the model reports objects down to
    ``band`` below its threshold; the step passes on those at the threshold and notes
    the others in the frame's metadata for the sampler only."""
    from sightwire.inference.detector import DetectAnalyser
    from sightwire.inference.regions import RegionDetectAnalyser

    options = step.detect
    kind = RegionDetectAnalyser if options.regions else DetectAnalyser
    detector = hub.detector(options.model)
    band = hub.review_band
    if band is None:
        return kind(detector, options.confidence, options.classes)
    name = options.model.partition("@")[0]
    threshold = max(options.confidence or 0.0, hub.config.models[name].confidence)
    analyser = kind(detector, threshold, options.classes)
    analyser.keep_near_threshold(band, lambda: f"{name}@{detector.version}")
    return analyser

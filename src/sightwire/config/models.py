"""Pydantic models of the YAML config. Unknown keys are errors (``extra="forbid"``).

The shape follows docs/configuration.md; every field has a description so that
``sightwire config schema`` gives editors useful completion.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from sightwire.config.actions import ActionConfig, WebhookConfig
from sightwire.config.api import ApiConfig
from sightwire.config.base import Line, Name, Polygon, StrictModel
from sightwire.config.bus import BusConfig
from sightwire.config.clips import ClipConfig
from sightwire.config.delivery import DeliveryConfig
from sightwire.config.review import ReviewConfig
from sightwire.config.rules import LookupConfig, RuleConfig
from sightwire.config.security import ClientTlsConfig
from sightwire.config.sensors import ScaleConfig, WeighStep


class StoreConfig(StrictModel):
    database: str = Field("sqlite:///data/sightwire.db", description="SQLAlchemy URL")
    blobs: str = Field("file://data/blobs", description="file://FOLDER or s3://BUCKET/PREFIX")
    tls: ClientTlsConfig | None = Field(None, description="PostgreSQL TLS (libpq sslmode...)")


class ModelConfig(StrictModel):
    path: str | None = Field(None, description="ONNX file; omit to use the model registry")
    task: Literal["detect", "segment", "classify", "anomaly"] = "detect"
    confidence: float = Field(0.4, ge=0, le=1, description="Minimum confidence kept")
    iou: float = Field(0.45, ge=0, le=1, description="IoU threshold of non-maximum suppression")
    labels: list[str] | None = Field(None, description="Class names, when the model has none")
    providers: list[str] = Field(
        default_factory=lambda: ["CPU"],
        description="ONNX Runtime providers in order of preference: CUDA, TensorRT, OpenVINO, "
        "CPU; a missing one falls back to the next with a warning",
    )
    threads: int | None = Field(None, ge=1, le=256, description="Threads per inference call")
    max_batch: int = Field(
        8, ge=1, le=256, description="Most frames (of all cameras) in one model call"
    )


class ReconnectConfig(StrictModel):
    initial_s: float = Field(0.5, gt=0, description="First wait after a live source fails")
    max_s: float = Field(30.0, gt=0, description="Longest wait between attempts")
    jitter: float = Field(0.2, ge=0, le=1, description="Random share added to each wait")
    max_attempts: int | None = Field(
        None, ge=1, description="Give up after this many attempts; unset: never"
    )


class RoiConfig(StrictModel):
    polygon: Polygon | None = Field(None, description="Keep only pixels inside this polygon")
    crop: tuple[int, int, int, int] | None = Field(None, description="[x1, y1, x2, y2] to cut out")


class ResizeConfig(StrictModel):
    width: int | None = Field(None, gt=0, le=8192)
    height: int | None = Field(None, gt=0, le=8192)


class MotionConfig(StrictModel):
    enabled: bool = True
    width: int = Field(160, ge=32, le=1280, description="Width the background is modelled at")
    threshold: int = Field(25, ge=1, le=255, description="Grey-level change that counts as motion")
    min_area: float = Field(0.0005, ge=0, le=1, description="Smallest motion box, share of frame")
    learning_rate: float = Field(0.05, gt=0, le=1, description="How fast the background adapts")
    lighting_change: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of the frame changing at once that means lighting, not motion",
    )
    skip_idle: bool = Field(True, description="Frames without motion skip inference")


class PrivacyConfig(StrictModel):
    faces: Literal["blur", "pixelate", "fill", "off"] = "off"
    plates: Literal["blur", "pixelate", "fill", "off"] = "off"
    classes: list[str] = Field(default_factory=list, description="Detector classes to redact")
    method: Literal["blur", "pixelate", "fill"] = Field(
        "fill", description="How objects of `classes` are redacted"
    )
    padding: float = Field(
        0.25, ge=0, le=1, description="Grow each redacted box by this share of its size, per side"
    )


class DetectOptions(StrictModel):
    model: str = Field(description="NAME (production alias) or NAME@VERSION")
    confidence: float | None = Field(None, ge=0, le=1)
    classes: list[str] | None = None
    regions: bool = Field(False, description="Detect on crops around motion, not whole frames")


class TrackOptions(StrictModel):
    max_age_s: float = Field(
        1.0,
        gt=0,
        description="Keep a lost track this long: seconds of stream time (pts) from the "
        "first analysed frame that missed it",
    )
    min_hits: int = Field(2, ge=1, description="Frames in a row that confirm a new track")
    high_confidence: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Detections at least this confident are matched first and start "
        "tracks; weaker ones (down to 0.1) only extend tracks. Give the detect step a "
        "lower confidence (e.g. 0.1) to benefit",
    )
    match_iou: float = Field(
        0.2, gt=0, le=1, description="Least overlap of a detection with a track's predicted box"
    )


class ReadOptions(StrictModel):
    within: str | None = Field(None, description="Read inside boxes of this class")
    zone: str | None = Field(None, description="Or inside this zone")
    pattern: str | None = Field(None, description="Regular expression a reading must match")
    margin: float = Field(
        0.1, ge=0, le=1, description="Grow each box by this share of its size before reading"
    )


class MeasureOptions(StrictModel):
    within: str = Field(description="Measure boxes of this class")
    mm_per_pixel: float = Field(gt=0, description="Scale at the working plane")
    length: Literal["longer", "x", "y"] = Field(
        "longer",
        description="Which box side is the length: the longer one, or the one along x (a "
        "belt running left to right) or y; the width is the other",
    )
    edge_px: float = Field(
        2.0, ge=0, description="A box this close to the frame's edge is cut off: not measured"
    )
    samples: int = Field(
        25, ge=1, le=1000, description="Sizes kept per object; the estimate is their median"
    )


class DepthConfig(StrictModel):
    """A top-down depth stream aligned with the camera's colour picture (same view)."""

    source: str = Field(
        description="A 16-bit depth video (FFV1 or PNG in MKV, gray16le) or a folder of "
        "16-bit PNGs; each value the distance from the camera in unit_mm, 0 = no reading"
    )
    fps: float | None = Field(None, gt=0, description="Pictures per second of a PNG folder")
    unit_mm: float = Field(1.0, gt=0, description="Millimetres per depth count")
    belt_mm: float | None = Field(
        None, gt=0, description="Camera to belt distance, mm; unset: learned from the belt seen"
    )
    learn_frames: int = Field(
        15, ge=1, le=255, description="Readings per pixel the learned belt distance rests on"
    )
    max_skew_s: float = Field(
        0.05, ge=0, description="Most time between a colour frame and its depth picture"
    )
    shrink: float = Field(
        0.2, ge=0, lt=0.5, description="Shrink each box by this share per side to read height"
    )


class DetectStep(StrictModel):
    detect: DetectOptions


class TrackStep(StrictModel):
    track: TrackOptions = Field(default_factory=TrackOptions)


class BarcodeStep(StrictModel):
    barcode: ReadOptions


class OcrOptions(ReadOptions):
    prefer: str | None = Field(
        None,
        description="A reading made another way (a data column, e.g. barcode), kept per "
        "tracked object: OCR then reads only objects still without it (a fallback), the "
        "column `into` gets that reading or else the OCR text, and `text_agrees` says "
        "whether the two agree once both are read. Needs within and a track step",
    )
    into: str = Field(
        "reading", pattern=r"^[a-z_][a-z0-9_]*$", description="With prefer: the column set"
    )
    attempts: int = Field(3, ge=1, le=100, description="With prefer: most OCR reads per object")
    wait_frames: int = Field(
        2, ge=1, le=100, description="With prefer: frames wholly in view before falling back"
    )
    cross_check: bool = Field(
        False,
        description="With prefer: read objects that have it too, in the background (the "
        "camera never waits), to set text_agrees",
    )

    @model_validator(mode="after")
    def _prefer_needs_within(self) -> OcrOptions:
        if self.prefer is not None and self.within is None:
            raise ValueError("prefer needs within: the class whose objects are read")
        return self


class OcrStep(StrictModel):
    ocr: OcrOptions


class MeasureStep(StrictModel):
    measure: MeasureOptions


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    return None


AnalyseStep = Annotated[
    Annotated[DetectStep, Tag("detect")]
    | Annotated[TrackStep, Tag("track")]
    | Annotated[BarcodeStep, Tag("barcode")]
    | Annotated[OcrStep, Tag("ocr")]
    | Annotated[MeasureStep, Tag("measure")]
    | Annotated[WeighStep, Tag("weigh")],
    Discriminator(
        _step_kind,
        custom_error_type="analyse_step",
        custom_error_message="expected one of: detect, track, barcode, ocr, measure, weigh",
    ),
]


class CameraConfig(StrictModel):
    source: str = Field(
        description="rtsp://, http(s):// (MJPEG or HLS), a video file, an image, a folder, "
        "/dev/videoN, or 'upload'"
    )
    fps: float | None = Field(None, gt=0, le=240, description="Sample to this rate; unset: all")
    keyframes_only: bool = Field(False, description="Decode keyframes only (cheapest sampling)")
    realtime: bool = Field(False, description="Pace a file at its own speed, like a live camera")
    loop: bool = Field(False, description="Start a file again when it ends")
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    connect_timeout_s: float = Field(10.0, gt=0, le=600)
    read_timeout_s: float = Field(10.0, gt=0, le=600)
    reconnect: ReconnectConfig = Field(default_factory=ReconnectConfig)
    roi: RoiConfig | None = None
    resize: ResizeConfig | None = None
    denoise: Literal["off", "gaussian", "median"] = "off"
    motion: MotionConfig | None = None
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    zones: dict[Name, Polygon] = Field(default_factory=dict)
    lines: dict[Name, Line] = Field(default_factory=dict)
    analyse: list[AnalyseStep] = Field(default_factory=list)
    clip: ClipConfig | None = Field(
        None, description="Short MP4 around each event; off when absent"
    )
    depth: DepthConfig | None = Field(
        None, description="Depth stream for the measure step's heights; none when absent"
    )


class SightwireConfig(StrictModel):
    """The whole config file."""

    version: Literal[1] = 1
    site: Name = "default"
    store: StoreConfig = Field(default_factory=StoreConfig)
    models: dict[Name, ModelConfig] = Field(default_factory=dict)
    cameras: dict[Name, CameraConfig] = Field(default_factory=dict)
    lookups: dict[Name, LookupConfig] = Field(default_factory=dict)
    scales: dict[Name, ScaleConfig] = Field(
        default_factory=dict, description="Belt scales read over MQTT (see the weigh step)"
    )
    rules: list[RuleConfig] = Field(default_factory=list)
    actions: dict[Name, ActionConfig] = Field(default_factory=dict)
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    bus: BusConfig = Field(default_factory=BusConfig)

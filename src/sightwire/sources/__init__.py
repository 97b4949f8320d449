"""Sources: turn files, folders, cameras and uploads into sampled frames.

``open_source(camera, config)`` picks the source for a camera's URI;
``CameraReader`` runs it in its own thread with reconnects and a hand-off.
"""

from sightwire.sources.av_source import AvKind, AvSource
from sightwire.sources.base import Source, SourceError, SourceState, StateChange, StateListener
from sightwire.sources.handoff import Handoff
from sightwire.sources.image_source import FolderSource, ImageSource
from sightwire.sources.reader import CameraReader, ReaderStats, backoff_delay
from sightwire.sources.registry import KINDS, SourceKind, open_source, register
from sightwire.sources.sampling import FpsSampler
from sightwire.sources.upload import UploadSource

__all__ = [
    "KINDS",
    "AvKind",
    "AvSource",
    "CameraReader",
    "FolderSource",
    "FpsSampler",
    "Handoff",
    "ImageSource",
    "ReaderStats",
    "Source",
    "SourceError",
    "SourceKind",
    "SourceState",
    "StateChange",
    "StateListener",
    "UploadSource",
    "backoff_delay",
    "open_source",
    "register",
]

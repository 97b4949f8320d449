"""Output decoders, one module per output layout, chosen from the model's output shapes.

Adding a layout is one module with a ``SPEC`` and one line in ``DECODERS``.

>>> layout = OutputLayout(shapes=((1, 84, 8400),), input_size=(640, 640), class_count=80)
>>> spec, decoder = choose_decoder(layout, task="detect")
>>> spec.name
'yolov8'
>>> choose_decoder(OutputLayout(shapes=((1, 7, 7, 7),)))
Traceback (most recent call last):
...
sightwire.inference.decoders.UnknownLayoutError: no decoder reads outputs [1, 7, 7, 7] ...
"""

from __future__ import annotations

from sightwire.inference.decoders import classify, end_to_end, segment, yolov5, yolov8
from sightwire.inference.decoders.base import (
    DecodeParams,
    Decoder,
    DecoderSpec,
    Fit,
    OutputLayout,
)

DECODERS: dict[str, DecoderSpec] = {
    spec.name: spec
    for spec in (yolov8.SPEC, yolov5.SPEC, end_to_end.SPEC, segment.SPEC, classify.SPEC)
}
"""Every known output layout by name (the ``layout`` a user may force)."""


class UnknownLayoutError(ValueError):
    """The model's outputs fit no decoder, fit several equally, or not the task asked."""


def choose_decoder(
    layout: OutputLayout, task: str | None = None, name: str | None = None
) -> tuple[DecoderSpec, Decoder]:
    """The decoder that reads ``layout`` for ``task`` (any task when None); ``name``
    forces a layout from :data:`DECODERS`. Raises :class:`UnknownLayoutError` with
    the output shapes in the message when no single decoder fits."""
    shapes = layout.describe()
    if name is not None:
        return _forced(layout, name)
    fits = {spec.name: spec.fit(layout) for spec in DECODERS.values()}
    fitting = [DECODERS[n] for n, level in fits.items() if level > Fit.NONE]
    if not fitting:
        raise UnknownLayoutError(f"no decoder reads outputs {shapes} (known layouts: {_known()})")
    for_task = [spec for spec in fitting if task is None or spec.task == task]
    if not for_task:
        looks = max(fitting, key=lambda spec: fits[spec.name])
        raise UnknownLayoutError(
            f"outputs {shapes} do not look like a {task} model; they look like "
            f"{looks.name} (task: {looks.task})"
        )
    best = max(fits[spec.name] for spec in for_task)
    winners = [spec for spec in for_task if fits[spec.name] == best]
    if len(winners) > 1:
        names = ", ".join(spec.name for spec in winners)
        raise UnknownLayoutError(
            f"outputs {shapes} fit several layouts equally ({names}); name the layout"
        )
    return winners[0], winners[0].make(layout)


def _forced(layout: OutputLayout, name: str) -> tuple[DecoderSpec, Decoder]:
    spec = DECODERS.get(name)
    if spec is None:
        raise UnknownLayoutError(f"unknown layout {name!r} (known layouts: {_known()})")
    if spec.fit(layout) == Fit.NONE:
        raise UnknownLayoutError(f"outputs {layout.describe()} are not a {name} layout")
    return spec, spec.make(layout)


def _known() -> str:
    return ", ".join(DECODERS)


__all__ = [
    "DECODERS",
    "DecodeParams",
    "Decoder",
    "DecoderSpec",
    "Fit",
    "OutputLayout",
    "UnknownLayoutError",
    "choose_decoder",
]

"""Shipping labels: a tracking number printed as a Code128 barcode and as text.

>>> import numpy as np, zxingcpp
>>> number = tracking_number(np.random.default_rng(0))
>>> label = render_label(number)
>>> [b.text for b in zxingcpp.read_barcodes(label)] == [number]
True
"""

from __future__ import annotations

import string

import cv2
import numpy as np
import zxingcpp

from sightwire.core.frame import Image

# Like carriers' own schemes, shipper codes avoid O and I, which print like 0 and 1.
ALPHANUMERIC = np.array([c for c in string.ascii_uppercase + string.digits if c not in "OI"])
DIGITS = np.array(list(string.digits))
PAPER = (238, 242, 244)
INK = (20, 20, 20)
BARCODE_HEIGHT = 40
"""Bar height in pixels; the bars are one pixel per module wide."""
MARGIN = 12
TEXT_FONT = cv2.FONT_HERSHEY_SIMPLEX


def tracking_number(rng: np.random.Generator) -> str:
    """A UPS-style number: ``1Z``, a six-character shipper code and ten digits."""
    shipper = "".join(rng.choice(ALPHANUMERIC, 6))
    serial = "".join(rng.choice(DIGITS, 10))
    return f"1Z{shipper}{serial}"


def code128(text: str) -> Image:
    """Black-on-white Code128 bars (one pixel per module, quiet zones included), grey."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    bars = np.asarray(barcode.to_image(scale=1, add_quiet_zones=True), dtype=np.uint8)
    return np.ascontiguousarray(bars[:BARCODE_HEIGHT])


def render_label(
    number: str, *, damaged: bool = False, barcode_damaged: bool = False, seed: int = 0
) -> Image:
    """A white label (BGR) with the barcode on top and the number printed below it.

    ``damaged`` smears dirt over the middle of both, so neither can be read;
    ``barcode_damaged`` over the barcode's middle only, so the printed number is left
    for OCR.

    >>> import zxingcpp
    >>> label = render_label("1Z4WSJLB0018695697", barcode_damaged=True)
    >>> zxingcpp.read_barcodes(label)
    []
    """
    bars = code128(number)
    width = bars.shape[1] + 2 * MARGIN
    scale = 0.6
    (text_w, text_h), baseline = cv2.getTextSize(number, TEXT_FONT, scale, 1)
    while text_w > width - 2 * MARGIN and scale > 0.3:
        scale -= 0.05
        (text_w, text_h), baseline = cv2.getTextSize(number, TEXT_FONT, scale, 1)
    height = MARGIN + BARCODE_HEIGHT + 8 + text_h + baseline + MARGIN
    label = np.empty((height, width, 3), np.uint8)
    label[:] = PAPER
    region = label[MARGIN : MARGIN + BARCODE_HEIGHT, MARGIN : MARGIN + bars.shape[1]]
    region[bars < 128] = INK
    origin = ((width - text_w) // 2, MARGIN + BARCODE_HEIGHT + 8 + text_h)
    cv2.putText(label, number, origin, TEXT_FONT, scale, INK, 1, cv2.LINE_AA)
    cv2.rectangle(label, (0, 0), (width - 1, height - 1), (150, 150, 150), 1)
    if damaged:
        smudge(label, np.random.default_rng([seed, 99]))
    elif barcode_damaged:
        bars_end = MARGIN + BARCODE_HEIGHT + 2
        smudge(label[:bars_end], np.random.default_rng([seed, 98]))
    return label


def smudge(label: Image, rng: np.random.Generator) -> None:
    """Smear brown dirt over the middle third of the label, in place.

    Code128 needs every bar between its start and stop patterns, and the text needs
    its middle characters: both are covered, then blurred into the paper.
    """
    height, width = label.shape[:2]
    x1, x2 = int(width * 0.3), int(width * 0.72)
    dirt = label.copy()
    dirt[:, x1:x2] = (70, 95, 120)
    for _ in range(6):
        center = (int(rng.uniform(x1, x2)), int(rng.uniform(0, height)))
        axes = (int(rng.uniform(0.08, 0.2) * width), int(rng.uniform(0.2, 0.5) * height))
        cv2.ellipse(dirt, center, axes, float(rng.uniform(0, 180)), 0, 360, (60, 85, 110), -1)
    dirt = np.asarray(cv2.GaussianBlur(dirt, (0, 0), 3.0), np.uint8)
    mask = np.zeros((height, width), np.float32)
    mask[:, x1:x2] = 1.0
    mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), 6.0), np.float32)
    mask[:, x1 + 6 : x2 - 6] = 1.0
    blend = label * (1.0 - mask[:, :, None]) + dirt * mask[:, :, None]
    label[:] = np.clip(blend, 0, 255).astype(np.uint8)

"""The pieces of the logistics line on their own: the WMS simulator's contract and
the refinement of a parcel's box from the picture."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from sightwire.analysis.measure import refine_box
from sightwire.analysis.observation import Observation, ObservedObject
from sightwire.config import load_config, parse_config
from sightwire.rules import RuleEngine
from sightwire.synth import ManifestEntry
from sightwire.wms import WmsSimulator

EXAMPLE = Path(__file__).parents[2] / "examples" / "logistics" / "site.yaml"
DOC = Path(__file__).parents[2] / "docs" / "logistics.md"
ENTRY = ManifestEntry(
    tracking_number="1ZAAAA", length_mm=500, width_mm=300, height_mm=200, weight_kg=4.2
)


@pytest.fixture
def wms() -> Iterator[WmsSimulator]:
    with WmsSimulator([ENTRY]) as server:
        yield server


def test_lookups_answer_the_manifest_or_404(wms: WmsSimulator) -> None:
    found = httpx.get(f"{wms.url}/parcels/1ZAAAA")
    assert found.status_code == 200
    assert found.json() == ENTRY.model_dump()
    assert httpx.get(f"{wms.url}/parcels/1ZBBBB").status_code == 404
    assert httpx.get(f"{wms.url}/elsewhere").status_code == 404
    assert wms.looked_up == ["1ZAAAA", "1ZBBBB"]


def test_routes_are_recorded_once_per_event(wms: WmsSimulator) -> None:
    body = {"station": "QC", "reason": "length_mm mismatch", "event_id": "01E"}
    url = f"{wms.url}/parcels/1ZAAAA/route"
    before = time.time()
    assert httpx.post(url, json=body).json() == {"accepted": True, "duplicate": False}
    assert httpx.post(url, json=body).json() == {"accepted": True, "duplicate": True}
    (route,) = wms.routes()
    assert (route.tracking_number, route.station, route.reason, route.event_id) == (
        "1ZAAAA",
        "QC",
        "length_mm mismatch",
        "01E",
    )
    assert before <= route.received_at <= time.time()
    assert wms.duplicates == 1
    assert httpx.get(f"{wms.url}/routes").json()[0]["event_id"] == "01E"


def test_bad_route_requests_are_refused(wms: WmsSimulator) -> None:
    url = f"{wms.url}/parcels/1ZAAAA/route"
    assert httpx.post(url, content=b"{not json").status_code == 400
    assert httpx.post(url, json={"reason": "no station"}).status_code == 422
    assert httpx.post(f"{wms.url}/parcels/1ZAAAA", json={"station": "QC"}).status_code == 404
    assert wms.routes() == []


def _belt(rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    return rng.normal(62, 4, (400, 700, 3)).clip(0, 255).astype(np.uint8)


def test_a_rough_box_snaps_to_the_parcel_edges() -> None:
    rng = np.random.default_rng(0)
    picture = _belt(rng)
    picture[100:300, 150:450] = (90, 140, 185)  # a brown parcel, 300 x 200
    picture[100:103, 150:450] = picture[297:300, 150:450] = (65, 100, 133)  # darker rim
    picture[150:220, 200:380] = 245  # its white label with a barcode
    picture[160:200, 210:370:4] = 20
    picture[120:280, 530:700] = (150, 152, 148)  # a grey neighbour 80 px further on
    for rough in ([135, 92, 468, 312], [170, 110, 430, 290], [160, 96, 455, 310]):
        assert refine_box(picture, rough) == pytest.approx([150, 100, 450, 300], abs=0.6)


def test_without_contrast_the_box_is_kept() -> None:
    picture = np.full((300, 400, 3), 70, np.uint8)
    picture[100:200, 100:300] = 80  # barely brighter than the belt
    assert refine_box(picture, [95, 90, 310, 205]).tolist() == [95, 90, 310, 205]
    # At the picture's edge, tiny, or empty: the box comes back as it was.
    assert refine_box(picture, [0, 0, 5, 5]).tolist() == [0, 0, 5, 5]


def test_refining_is_cheap() -> None:
    rng = np.random.default_rng(1)
    picture = _belt(rng)
    picture[80:330, 100:520] = (90, 140, 185)
    start = time.perf_counter()
    for _ in range(50):
        refine_box(picture, [90, 70, 530, 340])
    assert (time.perf_counter() - start) / 50 < 0.01  # well under 10 ms a parcel


def _decide(
    wms_url: str, barcode: str, length_mm: float = 500.0, **sizes: float | None
) -> list[tuple[str, str]]:
    """The example's rules on one parcel crossing the exit: (rule, reason) of each fired.
    ``sizes`` are more measured fields (height_mm, dim_weight_kg)."""
    env = {**os.environ, "WMS_URL": wms_url, "PARCELS_MODEL": "parcels.onnx"}
    config = load_config(EXAMPLE, env)
    engine = RuleEngine.from_config(config)
    watch = engine.triggers[0].watch
    parcel = ObservedObject(
        "parcel",
        (100, 100, 433, 300),
        0.9,
        7,
        {"tracking_number": barcode, "length_mm": length_mm, "width_mm": 300.0, **sizes},
    )
    seen = Observation(
        "cross",
        "belt-1",
        watch,
        time.time(),
        3.0,
        0,
        line="exit",
        object=parcel,
        direction="in",
        sense="left_to_right",
    )

    async def evaluate() -> list[tuple[str, str]]:
        try:
            return [
                (o.rule, o.event.data.attributes["reason"]) for o in await engine.evaluate([seen])
            ]
        finally:
            await engine.aclose()

    return asyncio.run(evaluate())


def test_the_example_rules_pick_one_route_each(wms: WmsSimulator) -> None:
    assert _decide(wms.url, "1ZAAAA") == []  # as declared
    assert _decide(wms.url, "1ZAAAA", length_mm=540) == [("parcel.mismatch", "length_mm mismatch")]
    assert _decide(wms.url, "1ZAAAA", length_mm=520) == []  # 4 %: within the tolerance
    assert _decide(wms.url, "1ZBBBB") == [("parcel.unknown", "unknown tracking number")]
    assert _decide(wms.url, "") == [("parcel.unreadable", "unreadable label")]


def _dim(length: float, width: float, height: float) -> float:
    return length * width * height / 5e6


def test_heights_and_dimensional_weight_are_checked_when_measured(wms: WmsSimulator) -> None:
    assert _decide(wms.url, "1ZAAAA", height_mm=200, dim_weight_kg=_dim(500, 300, 200)) == []
    assert _decide(wms.url, "1ZAAAA", height_mm=220, dim_weight_kg=_dim(500, 300, 220)) == [
        ("parcel.mismatch", "height_mm mismatch")
    ]
    # Length and height each 4 % over: within the tolerance one by one, but the
    # dimensional weight is 8 % over.
    assert _decide(
        wms.url, "1ZAAAA", length_mm=520, height_mm=208, dim_weight_kg=_dim(520, 300, 208)
    ) == [("parcel.mismatch", "dim_weight_kg mismatch")]
    # Length first when several are off; no height yet (depth not paired): not judged.
    assert _decide(wms.url, "1ZAAAA", length_mm=540, height_mm=240, dim_weight_kg=None) == [
        ("parcel.mismatch", "length_mm mismatch")
    ]
    assert _decide(wms.url, "1ZAAAA", height_mm=None, dim_weight_kg=None) == []


def test_the_scale_weight_is_checked_once_joined(wms: WmsSimulator) -> None:
    assert _decide(wms.url, "1ZAAAA", weight_kg=4.3) == []  # 2.4 % over 4.2 kg
    assert _decide(wms.url, "1ZAAAA", weight_kg=4.6) == [("parcel.mismatch", "weight_kg mismatch")]
    assert _decide(wms.url, "1ZAAAA", weight_kg=3.9) == [("parcel.mismatch", "weight_kg mismatch")]
    assert _decide(wms.url, "1ZAAAA", weight_kg=None) == []  # no reading joined yet


def test_a_wms_that_does_not_answer_sends_parcels_to_a_person() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert _decide(f"http://127.0.0.1:{port}", "1ZAAAA") == [
        ("parcel.unknown", "WMS lookup failed")
    ]


def test_the_docs_ocr_depth_and_scale_examples_validate() -> None:
    ocr, depth, scale = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    steps = parse_config(
        "cameras:\n  belt-1:\n    source: b.mp4\n    analyse:\n" + ocr, str(DOC), {}
    ).cameras["belt-1"]
    assert [type(step).__name__ for step in steps.analyse] == ["BarcodeStep", "OcrStep"]
    camera = parse_config(depth, str(DOC), {}).cameras["belt-1"]
    assert camera.depth is not None and camera.depth.belt_mm is None
    config = parse_config(scale, str(DOC), {})
    assert config.scales["belt-scale"].time_field == "ts"

"""The report of ``sightwire demo``: parcels beside the clip's ground truth, routes as
the WMS received them, read rate and latency percentiles, and their tables.

>>> # report = summarise(run, truth, wms.routes())
>>> # console.print(parcel_table(report["parcels"]), summary_table(report["summary"]))
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.table import Table

from sightwire.rules import RuleOutcome
from sightwire.runtime.objects import SeenObject
from sightwire.synth import GroundTruth

if TYPE_CHECKING:
    from sightwire.cli.demo_run import DemoRun


def summarise(run: DemoRun, truth: GroundTruth, routes: list[Any] | None) -> dict[str, Any]:
    """The demo's report: cameras, parcels beside the truth, routes, and the summary."""
    tracked = [o for o in run.log.objects() if o.class_name == "parcel"]
    parcels = compare(tracked, truth)
    routed = {o.event.id: o for o in run.outcomes}
    route_rows = []
    if routes is not None:  # what the (simulated) WMS received
        for r in routes:
            outcome = routed.get(r.event_id)
            if outcome is None:  # an earlier run's delivery, made now
                continue
            captured = outcome.event.data.captured_at if outcome else None
            route_rows.append(
                {
                    "tracking_number": r.tracking_number,
                    "station": r.station,
                    "reason": r.reason,
                    "event_id": r.event_id,
                    "rule": outcome.rule if outcome else None,
                    "track_id": _track(outcome),
                    "capture_to_route_ms": None
                    if captured is None
                    else round((r.received_at - captured) * 1000, 1),
                }
            )
    else:  # a real WMS: what was sent to it
        for o in run.outcomes:
            a = o.event.data.attributes
            route_rows.append(
                {
                    "tracking_number": a.get("tracking_number") or a.get("barcode") or "",
                    "station": a.get("station"),
                    "reason": a.get("reason"),
                    "event_id": o.event.id,
                    "rule": o.rule,
                    "track_id": _track(o),
                    "capture_to_route_ms": None,
                }
            )
    # Stopped early, judge reading only on the parcels that had left the picture.
    upto = max((o.last_s for o in tracked), default=0.0) if run.stopped_early else None
    judged = [p for p in parcels if upto is None or p["on_belt_s"][1] <= upto]
    readable = [p for p in judged if p["readable"]]
    read = [p for p in readable if p["read"] == p["tracking_number"]]
    by_track = {r["track_id"]: r for r in route_rows if r["track_id"] is not None}
    for p in parcels:
        route = by_track.get(p["track_id"])
        p["routed"] = None if route is None else f"{route['station']} ({route['reason']})"
    emit = [o.event.data.latency_ms for o in run.outcomes if o.event.data.latency_ms is not None]
    to_route = [
        r["capture_to_route_ms"] for r in route_rows if r["capture_to_route_ms"] is not None
    ]
    summary = {
        "parcels_seen": len(tracked),
        "parcels_in_clip": len(truth.parcels),
        "parcels_passed": len(judged),
        "readable_labels": len(readable),
        "labels_read": len(read),
        "read_by_ocr": sum(1 for p in read if p["read_by"] == "ocr"),
        "read_rate": round(len(read) / len(readable), 4) if readable else None,
        "routed": len(route_rows),
        "by_station": dict(Counter(str(r["station"]) for r in route_rows)),
        "by_rule": dict(Counter(str(r["rule"]) for r in route_rows)),
        "by_reason": dict(Counter(str(r["reason"]) for r in route_rows)),
        "capture_to_emit_ms": _percentiles(emit),
        "capture_to_route_ms": _percentiles(to_route),
        "realtime": run.realtime,
        "stopped_early": run.stopped_early,
    }
    return {"cameras": run.rows, "parcels": parcels, "routes": route_rows, "summary": summary}


def _track(outcome: RuleOutcome | None) -> int | None:
    if outcome is None or not outcome.event.data.objects:
        return None
    return outcome.event.data.objects[0].track_id


def _percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "p50": round(float(np.percentile(values, 50)), 1),
        "p99": round(float(np.percentile(values, 99)), 1),
        "max": round(float(max(values)), 1),
    }


def compare(parcels: list[SeenObject], truth: GroundTruth) -> list[dict[str, Any]]:
    """Each true parcel beside the tracked parcel that overlapped it most in time."""
    report = []
    for p in truth.parcels:
        overlap = [(min(o.last_s, p.exit_s) - max(o.first_s, p.entry_s), o) for o in parcels]
        best = max(overlap, key=lambda pair: pair[0], default=(0.0, None))
        seen = best[1] if best[0] > 0 else None
        report.append(
            {
                "tracking_number": p.tracking_number,
                "readable": p.label_readable or p.text_readable,
                "manifest_mismatch": p.manifest_mismatch,
                "on_belt_s": [round(p.entry_s, 1), round(p.exit_s, 1)],
                "track_id": seen.track_id if seen else None,
                "read": (seen.reading("barcode") or seen.reading("text")) if seen else "",
                "read_by": _read_by(seen),
            }
        )
    return report


def _read_by(seen: SeenObject | None) -> str:
    """How the parcel's number was read: barcode, ocr (the barcode failed) or ""."""
    if seen is None:
        return ""
    return "barcode" if seen.reading("barcode") else ("ocr" if seen.reading("text") else "")


def parcel_table(report: list[dict[str, Any]]) -> Table:
    table = Table(
        "parcel (truth)",
        "on belt (s)",
        "track",
        "number read",
        "",
        "declared wrong",
        "routed",
        title="Parcels",
        title_justify="left",
    )
    for r in report:
        verdict = (
            ("✓ (OCR)" if r["read_by"] == "ocr" else "✓")
            if r["read"] == r["tracking_number"]
            else ("damaged label" if not r["readable"] else "✗")
        )
        span = f"{r['on_belt_s'][0]:.1f}–{r['on_belt_s'][1]:.1f}"
        table.add_row(
            r["tracking_number"],
            span,
            str(r["track_id"] or "-"),
            r["read"] or "-",
            verdict,
            ", ".join(r["manifest_mismatch"]) or "-",
            r["routed"] or "-",
        )
    return table


def summary_table(s: dict[str, Any]) -> Table:
    table = Table("", "", title="Summary", title_justify="left", show_header=False)
    table.add_row(
        "parcels seen",
        f"{s['parcels_seen']} (passed by: {s['parcels_passed']} of the clip's "
        f"{s['parcels_in_clip']})",
    )
    rate = "-" if s["read_rate"] is None else f"{s['read_rate']:.0%}"
    table.add_row(
        "read rate",
        f"{s['labels_read']} of {s['readable_labels']} readable ({rate}; "
        f"{s['read_by_ocr']} by OCR where the barcode failed)",
    )
    table.add_row("routed", str(s["routed"]))
    for station, count in sorted(s["by_station"].items()):
        table.add_row(f"  to {station}", str(count))
    for reason, count in sorted(s["by_reason"].items()):
        table.add_row(f"  {reason}", str(count))
    for name, key in (
        ("capture → event", "capture_to_emit_ms"),
        ("capture → route", "capture_to_route_ms"),
    ):
        p = s[key]
        table.add_row(name, "-" if p is None else f"p50 {p['p50']:.0f} ms, p99 {p['p99']:.0f} ms")
    if not s["realtime"]:
        table.add_row(
            "", "[dim]fast mode: frames wait in the queue; --realtime for live latency[/]"
        )
    if s["stopped_early"]:
        table.add_row("", "[dim]stopped before the clip ended[/]")
    return table

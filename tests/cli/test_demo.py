"""``sightwire demo``: the vision half of the logistics example on a generated clip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_reads_the_labels_of_the_parcels_it_tracks(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sightwire",
            "demo",
            "--data",
            str(tmp_path),
            "--seconds",
            "24",
            "--parcels",
            "6",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout)
    parcels = report["parcels"]
    assert len(parcels) == 6
    readable = [p for p in parcels if p["readable"]]
    read = [p for p in readable if p["read"] == p["tracking_number"]]
    assert len(read) >= 0.95 * len(readable)
    assert all(p["read"] == "" for p in parcels if not p["readable"])
    tracks = [p["track_id"] for p in parcels]
    assert None not in tracks and len(set(tracks)) == len(tracks)  # one track per parcel
    assert report["cameras"][0]["state"] == "ended"

"""A stand-in warehouse management system (WMS) for the demo and the tests.

It speaks the contract Sightwire's logistics example expects of a real WMS:

- ``GET /parcels/{tracking_number}`` → ``{"tracking_number", "length_mm", "width_mm",
  "height_mm", "weight_kg"}`` (200) or 404;
- ``POST /parcels/{tracking_number}/route`` with JSON ``{"station", "reason",
  "event_id"}`` → 200 ``{"accepted": true, "duplicate": false}``; a second POST with an
  ``event_id`` already seen is acknowledged (``"duplicate": true``) but not recorded
  again, as an idempotent WMS does with at-least-once deliveries.

It is a demo stand-in, not a WMS: it keeps everything in memory and serves on
localhost (stdlib :class:`~http.server.ThreadingHTTPServer`, one thread per request).

>>> from sightwire.synth import ManifestEntry
>>> entry = ManifestEntry(tracking_number="1ZA", length_mm=500, width_mm=300,
...                       height_mm=200, weight_kg=4.2)
>>> with WmsSimulator([entry]) as wms:
...     import httpx
...     httpx.get(f"{wms.url}/parcels/1ZA").json()["length_mm"]
...     httpx.get(f"{wms.url}/parcels/1ZB").status_code
...     body = {"station": "QC", "reason": "length", "event_id": "e1"}
...     httpx.post(f"{wms.url}/parcels/1ZA/route", json=body).json()["duplicate"]
...     httpx.post(f"{wms.url}/parcels/1ZA/route", json=body).json()["duplicate"]
...     [(r.tracking_number, r.station) for r in wms.routes()]
500.0
404
False
True
[('1ZA', 'QC')]
"""

from sightwire.wms.simulator import Route, WmsSimulator

__all__ = ["Route", "WmsSimulator"]

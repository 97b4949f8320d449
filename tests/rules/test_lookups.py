"""Lookups against a real HTTP server: answers, cache, failures, circuit breaker."""

from __future__ import annotations

import asyncio
from typing import Any

from sightwire.actions.http_pool import HttpPool
from sightwire.config.rules import LookupConfig
from sightwire.rules import Lookup, LookupResult
from tests.rules.conftest import Wms


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lookup(wms: Wms, path: str, clock: Clock, **settings: Any) -> Lookup:
    config = LookupConfig.model_validate(
        {"url": f"{wms.url}/{path}/{{tracking_number}}", **settings}
    )
    return Lookup("manifest", config, clock=clock)


async def fetch_all(manifest: Lookup, *numbers: str) -> list[LookupResult]:
    try:
        return await asyncio.gather(*(manifest.fetch({"tracking_number": n}) for n in numbers))
    finally:
        await manifest.aclose()


def test_an_answer_is_parsed_json(wms: Wms) -> None:
    wms.manifests["1Z1"] = {"length_mm": 300, "weight_kg": 2.5}
    (result,) = asyncio.run(fetch_all(lookup(wms, "parcels", Clock()), "1Z1"))
    assert result.ok and result.value == {"length_mm": 300, "weight_kg": 2.5}


def test_repeated_keys_make_one_request_within_the_ttl(wms: Wms) -> None:
    wms.manifests["1Z1"] = {"length_mm": 300}
    clock = Clock()
    manifest = lookup(wms, "parcels", clock, cache_s=60)

    async def scenario() -> list[LookupResult]:
        first = await asyncio.gather(
            *(manifest.fetch({"tracking_number": "1Z1"}) for _ in range(5))
        )
        clock.now += 30
        cached = await manifest.fetch({"tracking_number": "1Z1"})
        clock.now += 31  # past the TTL
        fresh = await manifest.fetch({"tracking_number": "1Z1"})
        await manifest.aclose()
        return [*first, cached, fresh]

    results = asyncio.run(scenario())
    assert all(r.value == {"length_mm": 300} for r in results)
    assert results[5].cached and not results[6].cached
    assert wms.requests["/parcels/1Z1"] == 2


def test_without_cache_every_call_asks(wms: Wms) -> None:
    wms.manifests["1Z1"] = {"length_mm": 300}
    manifest = lookup(wms, "parcels", Clock())

    async def twice() -> None:
        await manifest.fetch({"tracking_number": "1Z1"})
        await manifest.fetch({"tracking_number": "1Z1"})
        await manifest.aclose()

    asyncio.run(twice())
    assert wms.requests["/parcels/1Z1"] == 2


def test_failures_become_errors_not_exceptions(wms: Wms) -> None:
    clock = Clock()
    missing, broken, slow = (
        lookup(wms, "parcels", clock),
        lookup(wms, "broken", clock),
        lookup(wms, "slow", clock, timeout_s=0.2),
    )
    (r404,) = asyncio.run(fetch_all(missing, "1Z404"))
    (bad,) = asyncio.run(fetch_all(broken, "1Z1"))
    (late,) = asyncio.run(fetch_all(slow, "1Z1"))
    assert r404.error == "manifest: HTTP 404" and r404.value is None
    assert bad.error is not None and bad.error.startswith("manifest: broken JSON")
    assert late.error == "manifest: timeout after 0.2 s"


def test_a_missing_field_asks_nothing(wms: Wms) -> None:
    manifest = lookup(wms, "parcels", Clock())
    result = asyncio.run(manifest.fetch({"tracking_number": ""}))
    assert result.error == "the object has no tracking_number"
    assert sum(wms.requests.values()) == 0


def test_an_unreachable_service_is_an_error() -> None:
    config = LookupConfig(url="http://127.0.0.1:9/parcels/{tracking_number}", timeout_s=1)
    (result,) = asyncio.run(fetch_all(Lookup("manifest", config, clock=Clock()), "x"))
    assert result.error is not None and "ConnectError" in result.error


def test_the_breaker_opens_after_failures_and_closes_after_a_good_trial(wms: Wms) -> None:
    clock = Clock()
    config = LookupConfig.model_validate(
        {"url": wms.url + "/{kind}/1", "breaker": {"failures": 3, "open_s": 30}}
    )

    async def scenario() -> list[LookupResult]:
        client = HttpPool(timeout_s=5.0)
        manifest = Lookup("manifest", config, client, clock)
        results = [await manifest.fetch({"kind": "error"}) for _ in range(5)]
        results.append(await manifest.fetch({"kind": "parcels"}))  # open: not even asked
        clock.now += 31  # half open: one trial goes through
        wms.manifests["1"] = {"ok": True}
        results.append(await manifest.fetch({"kind": "parcels"}))
        results.append(await manifest.fetch({"kind": "error"}))  # closed again: asks
        await client.close()
        return results

    results = asyncio.run(scenario())
    assert [r.error for r in results[:3]] == ["manifest: HTTP 500"] * 3
    assert all("circuit open" in (r.error or "") for r in results[3:6])
    assert results[6].value == {"ok": True}
    assert results[7].error == "manifest: HTTP 500"
    assert wms.requests["/error/1"] == 4 and wms.requests["/parcels/1"] == 1


def test_a_404_does_not_open_the_breaker(wms: Wms) -> None:
    config = LookupConfig.model_validate(
        {"url": wms.url + "/parcels/{tracking_number}", "breaker": {"failures": 2}}
    )
    manifest = Lookup("manifest", config, clock=Clock())
    results = asyncio.run(fetch_all(manifest, "a", "b", "c", "d"))
    assert all(r.error == "manifest: HTTP 404" for r in results)
    assert not manifest.breaker.is_open

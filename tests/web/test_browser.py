"""The UI in Debian's chromium against a real server: sign in, watch an event arrive,
open it, review, draw a zone, promote and roll back a model, export a dataset.

The tests share one served site and run in file order: review decisions made in one
are what the dataset export exports.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.web.conftest import screenshot
from tests.web.site import CAMERA, HEIGHT, WIDTH, Site, conveyor_frames, jpeg

if TYPE_CHECKING:
    from playwright.sync_api import Page, expect
else:

    def expect(target: Any) -> Any:
        """Playwright's expect, imported late: without playwright the tests skip."""
        from playwright.sync_api import expect as playwright_expect

        return playwright_expect(target)


pytestmark = pytest.mark.timeout(240)


def sign_in(page: Page, key: str, then: str = "/ui/events") -> None:
    page.goto(f"/ui/signin?next={then}")
    page.get_by_label("API key or token").fill(key)
    page.get_by_role("button", name="Sign in").click()
    # The sign-in page's own address ends with ?next=THEN: match the path, not a suffix.
    page.wait_for_url(lambda url: url.split("/", 3)[3] == then.lstrip("/"))


def upload(site: Site, first: int) -> None:
    """Two frames in a row from ``first``: the tracker confirms a track on its second sight."""
    frames = conveyor_frames_cached(site)[first : first + 2]
    response = httpx.post(
        f"{site.url}/api/v1/cameras/{CAMERA}/frames",
        headers={"Authorization": f"Bearer {site.keys['operator']}"},
        files=[("files", (f"{i}.jpg", jpeg(im), "image/jpeg")) for i, im in enumerate(frames)],
    )
    assert response.status_code == 202, response.text


_frames: dict[Path, list[object]] = {}


def conveyor_frames_cached(site: Site) -> list:  # type: ignore[type-arg]
    if site.root not in _frames:
        _frames[site.root] = conveyor_frames(site.root / "frames")  # type: ignore[assignment]
    return _frames[site.root]


def api(site: Site, path: str, role: str = "admin") -> object:
    response = httpx.get(site.url + path, headers={"Authorization": f"Bearer {site.keys[role]}"})
    response.raise_for_status()
    return response.json()


def test_sign_in_refuses_a_bad_key_and_keeps_a_good_one_for_the_tab(page: Page, site: Site) -> None:
    page.goto("/ui/events")
    page.wait_for_url("**/ui/signin?next=*")  # not signed in: sent to sign in
    page.get_by_label("API key or token").fill("sw_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("not accepted"))
    screenshot(page, "signin")
    sign_in(page, site.keys["viewer"])
    expect(page.locator("#who")).to_contain_text("viewer")
    assert site.keys["viewer"] not in page.content()  # the key is never put in the page


def test_an_event_arrives_live_and_opens_with_snapshot_and_deliveries(
    page: Page, site: Site
) -> None:
    sign_in(page, site.keys["operator"])
    expect(page.locator("#live-state")).to_have_text("live")
    rows = page.locator("#events tbody tr")
    expect(rows).to_have_count(len(site.seeded))
    upload(site, 2)  # a frame with parcels in view (the clip is the same every run)
    fresh = page.locator("#events tbody tr.fresh")
    expect(fresh.first).to_contain_text("parcel.seen")
    screenshot(page, "events")
    fresh.first.get_by_role("link").click()
    page.wait_for_url("**/ui/events/*")
    expect(page.locator("#snapshot svg .box").first).to_be_attached()
    expect(page.locator("#deliveries tbody tr")).to_contain_text("archive")
    assert page.locator("#snapshot img").evaluate("img => img.naturalWidth") == WIDTH
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#event-status")).to_have_text("acknowledged")
    screenshot(page, "event")
    page.get_by_role("button", name="Retry the delivery to archive").click()
    expect(page.locator("#toast")).to_have_text("Queued again.")


def test_review_adds_a_box_confirms_one_and_rejects_another_by_keyboard(
    page: Page, site: Site
) -> None:
    first, second = site.seeded
    sign_in(page, site.keys["operator"], then="/ui/review")
    details = page.locator("#item-details")
    expect(details).to_have_attribute("data-item-id", first)
    page.get_by_label("Class for relabel / new box").fill("label")
    page.get_by_role("button", name="Add box (a)").click()
    box = page.locator("#review-shot svg").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3, steps=5)
    page.mouse.up()
    expect(page.locator("#review-shot svg .box.added")).to_have_count(1)
    screenshot(page, "review")
    page.get_by_label("Class for relabel / new box").fill("sticker")
    page.locator("body").click(position={"x": 5, "y": 5})  # focus off the class field
    page.keyboard.press("2")  # select the added box
    page.keyboard.press("r")
    expect(page.locator("#labels")).to_contain_text("2. sticker (added)")
    page.keyboard.press("y")
    expect(details).to_have_attribute("data-item-id", second)
    page.keyboard.press("n")
    expect(page.locator(f'#queue tr[data-item-id="{second}"]')).to_contain_text("rejected")
    decided = api(site, f"/api/v1/review/items/{first}")
    item = decided["item"]  # type: ignore[index]
    assert item["state"] == "corrected" and item["reviewed_by"].startswith("key:")
    assert [label["class_name"] for label in item["labels"] if label.get("added")] == ["sticker"]
    actions = [d["action"] for d in decided["decisions"]]  # type: ignore[index]
    assert actions == ["add_box", "relabel", "confirm"]
    assert api(site, f"/api/v1/review/items/{second}")["item"]["state"] == "rejected"  # type: ignore[index]


def test_rules_show_precision_from_reviews(page: Page, site: Site) -> None:
    sign_in(page, site.keys["viewer"], then="/ui/rules")
    row = page.locator('#rules tr[data-rule="parcel.seen"]')
    expect(row.locator(".precision")).to_have_text("50%")
    screenshot(page, "rules")


def test_a_zone_drawn_is_saved_to_the_file_and_applied_to_the_pipeline(
    page: Page, site: Site
) -> None:
    docked = "/api/v1/events?rule=parcel.docked"
    assert api(site, docked)["items"] == []  # type: ignore[index]
    sign_in(page, site.keys["admin"], then="/ui/zones")
    expect(page.locator("#shapes")).to_contain_text("Zone dock")
    page.get_by_role("button", name="Delete zone dock").click()
    page.get_by_label("Name").fill("dock")
    page.get_by_role("button", name="Draw").click()
    svg = page.locator("#zone-shot svg")
    area = svg.bounding_box()
    assert area is not None
    for fx, fy in ((0.01, 0.01), (0.99, 0.01), (0.99, 0.99), (0.01, 0.99)):
        svg.click(position={"x": area["width"] * fx, "y": area["height"] * fy})
    page.get_by_role("button", name="Finish shape").click()
    page.get_by_role("button", name="Save and apply").click()
    expect(page.locator("#zone-result")).to_have_attribute("data-state", "applied")
    screenshot(page, "zones")
    text = site.config_path.read_text()
    assert "# a phone or drone pushing pictures" in text  # comments outside the zones stay
    dock = api(site, f"/api/v1/cameras/{CAMERA}/zones")["zones"]["dock"]  # type: ignore[index]
    assert dock[2][0] > WIDTH * 0.95 and dock[2][1] > HEIGHT * 0.95
    upload(site, 6)  # a parcel now inside the redrawn zone: the running rules see it
    page.get_by_label("Name").fill("exit")  # and a line typed rather than drawn
    page.get_by_label("Line (two points)").check()
    page.get_by_text("Type the points instead").click()
    page.get_by_label("Points in pixels").fill("1000, 0\n1000, 720")
    page.get_by_role("button", name="Add typed shape").click()
    expect(page.locator("#shapes")).to_contain_text("Line exit (2 points)")
    with page.expect_response(lambda r: r.request.method == "PUT" and "/zones" in r.url) as put:
        page.get_by_role("button", name="Save and apply").click()
    assert put.value.ok  # the save answered (the result still reads "applied" from before)
    expect(page.locator("#zone-result")).to_have_attribute("data-state", "applied")
    lines = api(site, f"/api/v1/cameras/{CAMERA}/zones")["lines"]  # type: ignore[index]
    assert lines == {"exit": [[1000.0, 0.0], [1000.0, 720.0]]}
    sign_in(page, site.keys["viewer"], then="/ui/events?rule=parcel.docked")
    expect(page.locator("#events tbody tr").first).to_contain_text("parcel.docked")


def test_a_model_is_promoted_and_rolled_back(page: Page, site: Site) -> None:
    sign_in(page, site.keys["admin"], then="/ui/models")
    card = page.locator('[data-model="spare"]')
    aliases = card.locator(".current-aliases")
    expect(aliases).to_have_text("Aliases: production → 2")
    card.get_by_role("button", name="Promote spare 1").click()
    expect(aliases).to_have_text("Aliases: production → 1")
    screenshot(page, "models")
    card.get_by_role("button", name="Roll back").click()
    expect(aliases).to_have_text("Aliases: production → 2")


def test_live_and_health_show_the_camera(page: Page, site: Site) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    upload(site, 0)
    sign_in(page, site.keys["viewer"], then="/ui/live")
    image = page.locator(f'[data-camera="{CAMERA}"] img')
    expect(image).to_have_attribute("src", re.compile("^blob:"))
    shown = image.get_attribute("src")
    upload(site, 4)  # new frames come over the open MJPEG stream, not a request each
    expect(image).not_to_have_attribute("src", shown or "")
    streams = [url for url in requested if f"/cameras/{CAMERA}/stream" in url]
    assert len(streams) == 1 and not [url for url in requested if "/frame?" in url]
    screenshot(page, "live")
    page.goto("/ui/health")
    expect(page.locator(f'#sources tr[data-camera="{CAMERA}"]')).to_be_visible()
    expect(page.locator("#pipeline")).to_contain_text("running")
    screenshot(page, "health")


def test_pages_fit_a_tablet_and_show_keyboard_focus(page: Page, site: Site) -> None:
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, site.keys["operator"], then="/ui/review")
    loaded = {  # what shows each page has its data (the events page streams: never idle)
        "/ui/review": "#item-details[data-item-id]",
        "/ui/events": "#events tbody tr",
        "/ui/zones": "#shapes li",
        "/ui/models": "[data-model]",
    }
    for path, selector in loaded.items():
        page.goto(path)
        page.locator(selector).first.wait_for()
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 768, f"{path} scrolls sideways at 768 px ({overflow} px wide)"
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    screenshot(page, "tablet-models")


def test_an_event_links_to_its_review_item(page: Page, site: Site) -> None:
    event = site.seeded[1]
    sign_in(page, site.keys["viewer"], then=f"/ui/events/{event}")
    page.get_by_role("link", name="Review it").click()
    expect(page.locator("#item-details")).to_have_attribute("data-item-id", event)


@pytest.mark.parametrize("format_", ["yolo", "coco"])
def test_dataset_export_writes_the_reviewed_item(site: Site, tmp_path: Path, format_: str) -> None:
    reviewed_as_in_the_browser(site)
    out = tmp_path / format_
    command = [sys.executable, "-m", "sightwire", "dataset", "export", str(site.config_path)]
    done = subprocess.run(
        [*command, "--format", format_, "-o", str(out), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["images"] == 1  # the corrected item; the rejected one stays out
    images = sorted((out / "images").iterdir())
    assert [p.stem for p in images] == [site.seeded[0]]
    if format_ == "yolo":
        lines = (out / "labels" / f"{site.seeded[0]}.txt").read_text().splitlines()
        assert len(lines) == 2  # the model's parcel and the added sticker
        return
    from pycocotools.coco import COCO  # type: ignore[import-untyped]

    coco = COCO(str(out / "annotations.json"))
    names = {c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert names == {"parcel", "sticker"}
    assert len(coco.getAnnIds(imgIds=coco.getImgIds())) == 2


def reviewed_as_in_the_browser(site: Site) -> None:
    """The decisions the review test makes, made over HTTP when it was skipped (no
    chromium): the export then has the same items to write."""
    first, second = site.seeded
    if api(site, f"/api/v1/review/items/{first}")["item"]["state"] != "pending":  # type: ignore[index]
        return
    box = {"action": "add_box", "class_name": "label", "box": [100, 60, 300, 200]}
    relabel = {"action": "relabel", "object_id": 1, "class_name": "sticker"}
    decisions = [(first, box), (first, relabel), (first, {"action": "confirm"})]
    for item, decision in [*decisions, (second, {"action": "reject"})]:
        response = httpx.post(
            f"{site.url}/api/v1/review/items/{item}/decisions",
            json=decision,
            headers={"Authorization": f"Bearer {site.keys['operator']}"},
        )
        response.raise_for_status()

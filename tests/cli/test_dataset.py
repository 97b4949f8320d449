"""``sightwire dataset export``: a config's store in, a dataset folder out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sightwire.cli import app
from sightwire.review import ReviewQueue
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import open_database
from tests.review.dataset import Reviewed, populate

coco_api = pytest.importorskip("pycocotools.coco")


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Reviewed]:
    """A config whose store holds reviewed items."""
    database, blobs = tmp_path / "data" / "sightwire.db", tmp_path / "data" / "blobs"
    config = tmp_path / "site.yaml"
    config.write_text(
        f"version: 1\nsite: test\nstore:\n  database: sqlite:///{database}\n"
        f"  blobs: file://{blobs}\n"
    )
    db = open_database(f"sqlite:///{database}", migrate=True)
    try:
        reviewed = populate(ReviewQueue(db), FileBlobStore(blobs))
    finally:
        db.close()
    return config, reviewed


def test_export_coco_then_load_it_with_pycocotools(
    site: tuple[Path, Reviewed], tmp_path: Path
) -> None:
    config, reviewed = site
    out = tmp_path / "coco"
    done = CliRunner().invoke(
        app, ["dataset", "export", str(config), "--format", "coco", "-o", str(out), "--json"]
    )
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert (summary["format"], summary["images"]) == ("coco", len(reviewed.expected))
    coco = coco_api.COCO(str(out / "annotations.json"))
    exported = {image["sightwire_item"] for image in coco.loadImgs(coco.getImgIds())}
    assert exported == set(reviewed.expected)
    assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == summary["classes"]


def test_export_yolo_for_one_camera_with_unreviewed_items(
    site: tuple[Path, Reviewed], tmp_path: Path
) -> None:
    config, reviewed = site
    out = tmp_path / "yolo"
    args = ["dataset", "export", str(config), "--format", "yolo", "-o", str(out)]
    done = CliRunner().invoke(app, [*args, "--camera", "belt-1", "--include-unreviewed"])
    assert done.exit_code == 0, done.output
    wanted = {
        item_id
        for item_id in [*reviewed.expected, *reviewed.pending]
        if reviewed.cameras[item_id] == "belt-1"
    }
    assert {p.stem for p in (out / "images").iterdir()} == wanted
    assert {p.stem for p in (out / "labels").iterdir()} == wanted
    assert (out / "data.yaml").is_file()
    assert f"yolo: {len(wanted)} image(s)" in done.stdout
    assert "skipped 1: no snapshot" in done.stdout


def test_bad_arguments_exit_with_a_message(site: tuple[Path, Reviewed], tmp_path: Path) -> None:
    config, _ = site
    runner = CliRunner()
    wrong = runner.invoke(app, ["dataset", "export", str(config), "--format", "voc", "-o", "x"])
    assert wrong.exit_code == 2 and "yolo or coco" in wrong.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("")
    args = ["dataset", "export", str(config), "--format", "yolo", "-o", str(tmp_path / "full")]
    full = runner.invoke(app, args)
    assert full.exit_code == 1 and "not an empty folder" in full.output
    since = runner.invoke(app, [*args[:-1], str(tmp_path / "new"), "--since", "yesterday"])
    assert since.exit_code == 2 and "ISO 8601" in since.output

"""Snapshot pack files: ranges round trip from many threads, keys cannot leave the
store or read past a pack, a torn tail is harmless, late snapshots get files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from sightwire.storage import packs
from sightwire.storage.blobs import BlobKeyError, BlobNotFoundError, FileBlobStore, check_key
from sightwire.storage.packs import PackWriter, split_range

NOW = 1_764_252_000.0  # 2025-11-27 14:00:00 UTC
KEY = "snapshots/belt-1/2025/11/27/01JD.jpg"
PACK = "snapshots/belt-1/2025/11/27/14.pack"


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs", clock=lambda: NOW + 60)


def _snapshot(writer: int, n: int) -> bytes:
    return f"jpeg of writer {writer}, snapshot {n}|".encode() * (1 + n % 7)


def test_snapshots_from_many_threads_round_trip(blobs: FileBlobStore) -> None:
    keys: dict[tuple[int, int], str] = {}
    start = threading.Barrier(8)

    def write(writer: int) -> None:
        start.wait()
        camera = f"cam-{writer % 2}"  # four threads on each pack
        for n in range(200):
            key = f"snapshots/{camera}/2025/11/27/{writer}-{n}.jpg"
            stored = blobs.put_snapshot(key, _snapshot(writer, n), NOW + n)
            assert stored is not None
            keys[(writer, n)] = stored

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 1600
    for (writer, n), key in keys.items():
        assert key.startswith(f"snapshots/cam-{writer % 2}/2025/11/27/14.pack:")
        assert blobs.get(key) == _snapshot(writer, n)
        assert blobs.exists(key)
    for camera in ("cam-0", "cam-1"):  # no byte written twice, none lost
        size = (blobs.folder / f"snapshots/{camera}/2025/11/27/14.pack").stat().st_size
        assert size == sum(len(_snapshot(w, n)) for w, n in keys if f"cam-{w % 2}" == camera)


def test_a_range_key_names_its_pack_and_cannot_be_a_file(blobs: FileBlobStore) -> None:
    key = blobs.put_snapshot(KEY, b"\xff\xd8one", NOW)
    assert key == f"{PACK}:0+5"
    assert blobs.put_snapshot(KEY, b"\xff\xd8two", NOW) == f"{PACK}:5+5"  # a retry: appended
    assert split_range(f"{PACK}:5+5") == (PACK, 5, 5)
    with pytest.raises(BlobKeyError, match="written by put_snapshot"):
        blobs.put(f"{PACK}:0+5", b"x")
    with pytest.raises(BlobKeyError, match="written by put_snapshot"):
        blobs.create(f"{PACK}:0+5", b"x")
    with pytest.raises(BlobKeyError, match="not allowed"):  # ':' anywhere else
        blobs.put("snapshots/a.jpg:0+5", b"x")
    assert [p.name for p in (blobs.folder / PACK).parent.iterdir()] == ["14.pack"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("../14.pack:0+5", "'..' is not allowed"),
        ("snapshots/../../14.pack:0+5", "'..' is not allowed"),
        ("/etc/14.pack:0+5", "absolute paths"),
        ("snapshots/x/14.pack:-1+5", "not allowed"),
        ("snapshots/x/14.pack:0+-5", "not allowed"),
        ("snapshots/x/14.pack:01+5", "not allowed"),
        ("snapshots/x/14.pack:0+1000000000000000", "not allowed"),  # 16 digits
        ("snapshots/x/14.pack:0x10+5", "not allowed"),
        ("snapshots/x/14.pack:0+5:0+5", "not allowed"),
        ("snapshots/x/../14.pack:0+5", "'..' is not allowed"),
        ("snapshots/x/14.jpg:0+5", "not allowed"),
        ("snapshots/x:0+5/14.pack", "not allowed"),
        ("snapshots/x/..\\14.pack:0+5", "not allowed"),
    ],
)
def test_unsafe_range_keys_are_refused(
    blobs: FileBlobStore, tmp_path: Path, key: str, message: str
) -> None:
    (tmp_path / "14.pack").write_bytes(b"secret")
    for operation in (
        lambda: blobs.get(key),
        lambda: blobs.exists(key),
        lambda: blobs.delete(key),
        lambda: check_key(key),
    ):
        with pytest.raises(BlobKeyError, match=message):
            operation()
    assert (tmp_path / "14.pack").read_bytes() == b"secret"


@pytest.mark.parametrize(
    "span",
    ["0+11", "5+7", "11+1", "999999999999999+1", "0+999999999999999", "12+0"],
)
def test_ranges_past_the_end_are_not_found(blobs: FileBlobStore, span: str) -> None:
    assert blobs.put_snapshot(KEY, b"eleven byte", NOW) == f"{PACK}:0+11"
    assert blobs.get(f"{PACK}:0+11") == b"eleven byte"
    assert blobs.get(f"{PACK}:11+0") == b""
    if span != "0+11":
        with pytest.raises(BlobNotFoundError):
            blobs.get(f"{PACK}:{span}")
        assert not blobs.exists(f"{PACK}:{span}")
    with pytest.raises(BlobNotFoundError):
        blobs.get(f"snapshots/other/2025/11/27/14.pack:{span}")  # no such pack


def test_a_symlinked_pack_folder_is_refused(blobs: FileBlobStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "14.pack").write_bytes(b"secret")
    (blobs.folder / "snapshots").mkdir()
    (blobs.folder / "snapshots" / "x").symlink_to(outside)
    with pytest.raises(BlobKeyError, match="leads outside"):
        blobs.get("snapshots/x/14.pack:0+6")
    with pytest.raises(BlobKeyError, match="leads outside"):
        blobs.put_snapshot("snapshots/x/a.jpg", b"in", NOW)
    assert (outside / "14.pack").read_bytes() == b"secret"


def test_a_torn_tail_is_garbage_no_key_names(blobs: FileBlobStore) -> None:
    first = blobs.put_snapshot(KEY, b"whole", NOW)
    assert first is not None
    blobs.close()
    with (blobs.folder / PACK).open("ab") as pack:  # a process killed mid-append
        pack.write(b"\xff\xd8 torn")
    again = FileBlobStore(blobs.folder, clock=lambda: NOW)  # the restarted process
    second = again.put_snapshot(KEY, b"after", NOW)
    assert second == f"{PACK}:12+5"
    assert again.get(first) == b"whole" and again.get(second) == b"after"


def test_deleting_a_range_keeps_its_pack(blobs: FileBlobStore) -> None:
    first = blobs.put_snapshot(KEY, b"one", NOW)
    second = blobs.put_snapshot(KEY, b"two", NOW)
    assert first is not None and second is not None
    blobs.delete(first)  # an event that was not recorded: its range is garbage
    assert blobs.get(second) == b"two" and blobs.get(first) == b"one"
    blobs.delete(PACK)  # retention deletes the pack itself
    assert not blobs.exists(second)


def test_late_snapshots_and_stores_without_packs_get_files(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path / "a", clock=lambda: NOW + packs.LATE_S + 1)
    assert blobs.put_snapshot(KEY, b"late", NOW) == KEY  # its hour's pack may be pruned
    assert blobs.put_snapshot(KEY, b"retry", NOW) is None  # the first one stays
    assert blobs.get(KEY) == b"late"
    plain = FileBlobStore(tmp_path / "b", packs=False, clock=lambda: NOW)
    assert plain.put_snapshot(KEY, b"file", NOW) == KEY
    assert not (plain.folder / PACK).exists()
    other_day = FileBlobStore(tmp_path / "c", clock=lambda: NOW)
    assert other_day.put_snapshot("snapshots/a/b.jpg", b"no day", NOW) == "snapshots/a/b.jpg"


def test_idle_packs_are_closed_and_reopened_at_their_end(tmp_path: Path) -> None:
    now = [0.0]
    writer = PackWriter(clock=lambda: now[0])
    first, second = tmp_path / "1.pack", tmp_path / "2.pack"
    assert writer.append(first, b"abc") == 0
    now[0] = packs.IDLE_S + 1
    assert writer.append(second, b"de") == 0  # closes the idle first one
    assert list(writer._open) == [second]
    assert writer.append(first, b"fgh") == 3
    writer.close()
    assert first.read_bytes() == b"abcfgh" and second.read_bytes() == b"de"


def test_the_pack_of_a_snapshot_is_its_utc_hour() -> None:
    assert packs.pack_for(KEY, NOW + 1800) == PACK
    assert packs.pack_for(KEY, NOW + 3600) == PACK.replace("14.pack", "15.pack")
    assert packs.pack_for(KEY, NOW - 15 * 3600) is None  # the day before: not this folder
    assert packs.pack_for("snapshots/x/a.jpg", NOW) is None
    assert packs.pack_hour("snapshots/x/2025/11/27/14.pack") == NOW
    assert packs.pack_hour("snapshots/x/14.pack") is None
    assert packs.pack_hour("snapshots/x/2025/13/27/14.pack") is None


def test_reading_a_range_opens_no_descriptor_for_good(blobs: FileBlobStore) -> None:
    key = blobs.put_snapshot(KEY, b"x" * 100, NOW)
    assert key is not None
    pack = blobs.path_of(key.partition(":")[0]).resolve()

    def open_on_pack() -> int:  # only this file: other threads of the run open and close theirs
        return sum(1 for fd in Path("/proc/self/fd").iterdir() if _points_to(fd, pack))

    before = open_on_pack()
    for _ in range(50):
        blobs.get(key)
    assert open_on_pack() == before


def _points_to(fd: Path, target: Path) -> bool:
    try:
        return fd.readlink() == target
    except OSError:  # closed meanwhile
        return False

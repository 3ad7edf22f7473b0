"""The captures folder's size cap, on real files: oldest first, never the capture being recorded, a pinned
one or a recent one; other files left alone; the cap and the pins kept in the folder's retention file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flushscope.core.store.capture_folder import (
    DEFAULT_CAP,
    RECENT_S,
    RETENTION_FILE,
    CaptureFolder,
    Pruned,
    Retention,
    RetentionError,
    size_words,
)

NOW = 2_000_000_000.0
PATTERN = "flushscope-*.fscap.jsonl"
KIB = 1024


def recording(folder: Path, name: str, size: int, age_s: float) -> Path:
    """A recording of ``size`` bytes last written ``age_s`` seconds before NOW."""
    path = folder / f"flushscope-{name}.fscap.jsonl"
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - age_s, NOW - age_s))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> CaptureFolder:
    return CaptureFolder(tmp_path, PATTERN)


def names(paths: tuple[Path, ...] | list[Path]) -> list[str]:
    return [p.name.removeprefix("flushscope-").removesuffix(".fscap.jsonl") for p in paths]


def test_the_oldest_go_first_until_the_rest_fit_under_the_cap(folder: CaptureFolder) -> None:
    for name, age in (("c", 3 * RECENT_S), ("a", 5 * RECENT_S), ("d", 2 * RECENT_S), ("b", 4 * RECENT_S)):
        recording(folder.path, name, 100 * KIB, age)
    assert names([c.path for c in folder.captures()]) == ["a", "b", "c", "d"]
    folder.set_cap(250 * KIB)
    pruned = folder.prune(now=NOW)
    assert names(pruned.removed) == ["a", "b"]
    assert (pruned.freed, pruned.size, pruned.cap, pruned.over_cap) == (
        200 * KIB,
        200 * KIB,
        250 * KIB,
        False,
    )
    assert names([c.path for c in folder.captures()]) == ["c", "d"]
    assert (
        pruned.words()
        == "removed the 2 oldest recordings (200 KiB) to keep the captures folder under 250 KiB"
    )
    # Under the cap: nothing more goes.
    assert folder.prune(now=NOW) == Pruned((), 0, 200 * KIB, 250 * KIB)
    assert folder.prune(now=NOW).words() == ""


def test_never_the_recording_one_a_pinned_one_or_a_recent_one(folder: CaptureFolder) -> None:
    pinned = recording(folder.path, "pinned", 100 * KIB, 9 * RECENT_S)
    open_now = recording(folder.path, "open", 100 * KIB, 8 * RECENT_S)
    old = recording(folder.path, "old", 100 * KIB, 7 * RECENT_S)
    recent = recording(folder.path, "recent", 100 * KIB, RECENT_S / 2)
    folder.set_pinned(pinned, True)
    folder.set_cap(50 * KIB)
    pruned = folder.prune(keep=[open_now], now=NOW)
    assert pruned.removed == (old,)
    assert pinned.exists() and open_now.exists() and recent.exists() and not old.exists()
    assert pruned.over_cap and pruned.size == 300 * KIB
    assert pruned.words() == (
        "removed the 1 oldest recording (100 KiB) to keep the captures folder under 50 KiB; the captures "
        "folder holds 300 KiB, over its cap of 50 KiB: the rest is pinned, recording or recent"
    )
    # Unpinned, it may go.
    folder.set_pinned(pinned, False)
    assert folder.prune(keep=[open_now], now=NOW).removed == (pinned,)


def test_other_files_in_the_folder_are_neither_counted_nor_removed(folder: CaptureFolder) -> None:
    mine = folder.path / "my-own.fscap.jsonl"
    mine.write_bytes(b"y" * 500 * KIB)
    os.utime(mine, (0, 0))
    (folder.path / "flushscope-dir.fscap.jsonl").mkdir()
    old = recording(folder.path, "old", 100 * KIB, 5 * RECENT_S)
    new = recording(folder.path, "new", 100 * KIB, 4 * RECENT_S)
    folder.set_cap(150 * KIB)
    assert folder.prune(now=NOW).removed == (old,)
    assert mine.exists() and new.exists() and (folder.path / RETENTION_FILE).exists()


def test_no_cap_and_no_folder_remove_nothing(tmp_path: Path) -> None:
    folder = CaptureFolder(tmp_path / "not-yet", PATTERN)
    assert folder.captures() == [] and folder.retention() == Retention(DEFAULT_CAP, frozenset())
    assert folder.prune(now=NOW) == Pruned((), 0, 0, DEFAULT_CAP)
    folder.set_cap(0)
    recording(folder.path, "a", 100 * KIB, 5 * RECENT_S)
    assert folder.prune(now=NOW).removed == ()


def test_the_cap_and_the_pins_are_kept_in_the_folder(folder: CaptureFolder) -> None:
    a = recording(folder.path, "a", KIB, 5 * RECENT_S)
    gone = recording(folder.path, "gone", KIB, 5 * RECENT_S)
    folder.set_pinned(a, True)
    folder.set_pinned(gone, True)
    folder.set_cap(123 * KIB)
    again = CaptureFolder(folder.path, PATTERN)
    assert again.retention() == Retention(123 * KIB, frozenset({a.name, gone.name}))
    assert [c.pinned for c in again.captures()] == [True, True]
    stored = json.loads((folder.path / RETENTION_FILE).read_text())
    assert stored == {"cap_bytes": 123 * KIB, "pinned": sorted([a.name, gone.name])}
    # The pin of a recording removed meanwhile goes with the next change.
    gone.unlink()
    folder.set_pinned(a, True)
    assert folder.retention().pinned == frozenset({a.name})
    with pytest.raises(RetentionError, match="is not in the captures folder"):
        folder.set_pinned(folder.path.parent / "elsewhere.fscap.jsonl", True)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not JSON"),
        ('{"cap_bytes": -1}', "is not a retention file"),
        ('{"cap_bytes": true}', "is not a retention file"),
        ('{"pinned": "a"}', "is not a retention file"),
        ("[]", "is not a retention file"),
    ],
)
def test_a_broken_retention_file_removes_nothing_and_is_not_overwritten(
    folder: CaptureFolder, content: str, problem: str
) -> None:
    old = recording(folder.path, "old", 100 * KIB, 5 * RECENT_S)
    (folder.path / RETENTION_FILE).write_text(content)
    with pytest.raises(RetentionError, match=problem):
        folder.prune(now=NOW)
    with pytest.raises(RetentionError, match=problem):
        folder.set_cap(1)
    assert old.exists() and (folder.path / RETENTION_FILE).read_text() == content


def test_sizes_in_words() -> None:
    assert [size_words(n) for n in (12, 12 * KIB, 310 * KIB * KIB, 2 * 1024**3, int(1.45 * 1024**3))] == [
        "12 bytes",
        "12 KiB",
        "310 MiB",
        "2 GiB",
        "1.4 GiB",
    ]

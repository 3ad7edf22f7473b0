"""Every output is written whole or not at all: a write that fails midway leaves no file (and no temporary
one), the file that was there stays as it was, and running the command again succeeds."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import soundfile

from flushscope import cli
from flushscope.cli.exit_codes import EXIT_OK, EXIT_USAGE
from flushscope.core.formats import har
from flushscope.core.formats.recordings import RecordingFormat, read_recording, save_recording
from flushscope.core.frames import Direction
from flushscope.core.model.session import Session
from flushscope.core.store import whole_file
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.core.store.whole_file import all_or_none, written_whole
from flushscope.dataset import store
from flushscope.net.client import Target
from flushscope.net.runner import start_capture
from session_wire import RecordedWire


class Boom(OSError):
    """The write that fails midway (a full disk, a folder gone read-only)."""


def fail_on_call(n: int, real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, raising :class:`Boom` on its ``n``-th call (1-based)."""
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == n:
            raise Boom(28, "No space left on device")
        return real(*args, **kwargs)

    return wrapper


def capture(path: Path, contexts: int = 3) -> Path:
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket") as writer:
        wire = RecordedWire(writer)
        wire.connect()
        for n in range(contexts):
            wire.send(f"c{n}", "Hello there.")
            wire.flush(f"c{n}")
            wire.chunk(f"c{n}", 1)
            wire.flush_done(f"c{n}", 1)
            wire.end(f"c{n}")
            wire.done(f"c{n}")
    return path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return capture(tmp_path / "in.jsonl")


# --- the writer itself ----------------------------------------------------------------------------------


def test_a_whole_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with written_whole(target) as temporary:
        temporary.write_text("done")
        assert not target.exists()
        assert temporary.parent == tmp_path and temporary.name.startswith(".out.txt.")
    assert target.read_text() == "done"
    assert names(tmp_path) == ["out.txt"]


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(Boom), written_whole(target, overwrite=True) as temporary:
        temporary.write_text("half")
        raise Boom(5, "Input/output error")
    assert target.read_text() == "old"
    assert names(tmp_path) == ["out.txt"]


def test_an_existing_file_is_kept_unless_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(FileExistsError), written_whole(target):
        pytest.fail("nothing is written when the target exists")
    assert names(tmp_path) == ["out.txt"]


def test_a_file_that_appears_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(FileExistsError), written_whole(target) as temporary:
        temporary.write_text("mine")
        target.write_text("another writer's")
    assert target.read_text() == "another writer's"
    assert names(tmp_path) == ["out.txt"]


def test_the_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with written_whole(tmp_path / "whole.txt") as temporary:
        temporary.write_text("x")
    assert (tmp_path / "whole.txt").stat().st_mode == plain.stat().st_mode


def test_all_or_none_removes_what_the_earlier_writes_made(tmp_path: Path) -> None:
    def write(name: str) -> Callable[[], Path]:
        def run() -> Path:
            with written_whole(tmp_path / name) as temporary:
                temporary.write_text(name)
            return tmp_path / name

        return run

    def broken() -> Path:
        raise Boom(28, "No space left on device")

    with pytest.raises(Boom):
        all_or_none([write("a"), write("b"), broken, write("c")])
    assert names(tmp_path) == []
    assert all_or_none([write("a"), write("b")]) == [tmp_path / "a", tmp_path / "b"]


# --- convert ------------------------------------------------------------------------------------------


def test_convert_to_a_capture_that_fails_midway_leaves_nothing_and_a_rerun_succeeds(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harfile = tmp_path / "in.har"
    assert cli.main(["convert", str(source), str(harfile)]) == EXIT_OK
    out = tmp_path / "out.jsonl"
    monkeypatch.setattr(CaptureWriter, "write", fail_on_call(5, CaptureWriter.write))
    assert cli.main(["convert", str(harfile), str(out)]) == EXIT_USAGE
    assert names(tmp_path) == ["in.har", "in.jsonl"]
    monkeypatch.undo()
    assert cli.main(["convert", str(harfile), str(out)]) == EXIT_OK
    assert len(read_recording(out).frames) == len(read_recording(harfile).frames)


def test_convert_to_har_that_fails_midway_leaves_nothing_and_a_rerun_succeeds(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.har"
    real_iterencode = json.JSONEncoder.iterencode

    def iterencode(self: json.JSONEncoder, o: Any, _one_shot: bool = False) -> Iterator[str]:
        for count, piece in enumerate(real_iterencode(self, o, _one_shot)):
            if count == 200:
                raise Boom(28, "No space left on device")
            yield piece

    monkeypatch.setattr(json.JSONEncoder, "iterencode", iterencode)
    assert cli.main(["convert", str(source), str(out)]) == EXIT_USAGE
    assert "cannot write" in capsys.readouterr().err
    assert names(tmp_path) == ["in.jsonl"]
    monkeypatch.undo()
    # Before, the half-written file made the rerun refuse ("already exists").
    assert cli.main(["convert", str(source), str(out)]) == EXIT_OK
    assert len(har.read_har(out).frames) == len(read_recording(source).frames)


def test_a_har_message_at_a_time_no_session_reaches_is_left_out_and_the_rest_converts(tmp_path: Path) -> None:
    document = har.har_document(read_recording(capture(tmp_path / "c.jsonl")))
    # A message at a time no session reaches: left out on reading, as its warning says.
    messages = document["log"]["entries"][0]["_webSocketMessages"]
    messages[-1]["time"] = 2e14  # milliseconds: the year 8300
    messages[-1]["_frame"] = -1
    (tmp_path / "odd.har").write_text(json.dumps(document))
    loaded = read_recording(tmp_path / "odd.har")
    assert any("beyond any session; left out" in w for w in loaded.warnings)
    assert cli.main(["convert", str(tmp_path / "odd.har"), str(tmp_path / "out.jsonl")]) == EXIT_OK


# --- export -------------------------------------------------------------------------------------------


def test_an_export_that_fails_midway_leaves_no_wav_and_no_label_track(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "wavs"
    monkeypatch.setattr(soundfile.SoundFile, "write", fail_on_call(2, soundfile.SoundFile.write))
    assert cli.main(["export", str(source), "--out", str(out), "--labels"]) == EXIT_USAGE
    assert names(out) == []
    monkeypatch.undo()
    assert cli.main(["export", str(source), "--out", str(out), "--labels"]) == EXIT_OK
    assert len([n for n in names(out) if n.endswith(".wav")]) == 3
    assert len([n for n in names(out) if n.endswith(".txt")]) == 3


def test_an_export_whose_label_track_fails_removes_its_wavs_too(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "wavs"
    monkeypatch.setattr(Path, "write_bytes", fail_on_call(3, Path.write_bytes))
    assert cli.main(["export", str(source), "--out", str(out), "--labels"]) == EXIT_USAGE
    assert names(out) == []


# --- save capture as, the dataset -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["copy.jsonl", "copy.har"])
def test_save_as_that_fails_midway_keeps_the_old_file(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    target = tmp_path / name
    target.write_text("old")
    monkeypatch.setattr(whole_file, "_flush_to_disk", fail_on_call(1, whole_file._flush_to_disk))
    with pytest.raises(Boom):
        save_recording(source, target)
    assert target.read_text() == "old"
    assert names(tmp_path) == sorted(["in.jsonl", name])
    monkeypatch.undo()
    wanted = save_recording(source, target)
    assert wanted is (RecordingFormat.HAR if name.endswith(".har") else RecordingFormat.CAPTURE)
    assert len(read_recording(target).frames) == len(read_recording(source).frames)


def test_a_dataset_file_that_fails_midway_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half(table: pa.Table, where: str | os.PathLike[str], **_: Any) -> None:
        Path(where).write_bytes(b"PAR1 half")
        raise Boom(28, "No space left on device")

    monkeypatch.setattr(store.pq, "write_table", half)
    target = tmp_path / "t" / "day=2026-01-12" / "part-1.parquet"
    with pytest.raises(Boom):
        store._write(pa.table({"a": [1]}), target)
    assert names(target.parent) == []


# --- the live capture's start -------------------------------------------------------------------------


def test_a_capture_whose_header_cannot_be_written_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CaptureWriter, "_write_bytes", fail_on_call(1, CaptureWriter._write_bytes))
    with pytest.raises(Boom):
        CaptureWriter(tmp_path / "c.jsonl", "ws://h")
    assert names(tmp_path) == []


def test_a_run_whose_capture_cannot_start_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = Session()
    session.add_text(0.0, 1, Direction.META, '{"event":"connect"}')
    session.add_text(0.1, 1, Direction.META, '{"event":"open"}')
    monkeypatch.setattr(CaptureWriter, "write", fail_on_call(2, CaptureWriter.write))
    with pytest.raises(Boom):
        start_capture(tmp_path / "run.jsonl", Target("ws://127.0.0.1:1"), session, datetime.now(UTC), False)
    assert names(tmp_path) == []

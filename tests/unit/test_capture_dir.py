"""The sidecar's capture directory: names that sort and are safe everywhere, files finished only when whole."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from flushscope.core.frames import Direction, Frame
from flushscope.core.store.capture_dir import (
    MAX_CLIENT,
    capture_name,
    client_slug,
    create_capture,
    finish_capture,
    stem,
    unfinished_captures,
)
from flushscope.core.store.capture_reader import read_capture

STARTED = datetime(2026, 12, 6, 11, 22, 33, 123456, tzinfo=UTC)
#: Characters some file system refuses or reads specially (Windows' reserved ones, separators, controls).
UNSAFE = set('<>:"/\\|?* \t\n\r\x00')


def test_a_capture_is_named_by_its_start_client_and_connection() -> None:
    assert (
        capture_name(STARTED, "cartesia-python/4.2.0", 17) == "20261206T112233.123Z-cartesia-python-4.2.0-c17"
    )
    assert capture_name(STARTED, "cartesia-python/4.2.0", 17, part=2) == (
        "20261206T112233.123Z-cartesia-python-4.2.0-c17-part2"
    )
    # A local time is named in UTC, so that names from every machine sort together.
    paris = STARTED.astimezone(timezone(timedelta(hours=1)))
    assert capture_name(paris, "x", 1) == capture_name(STARTED, "x", 1)


def test_names_sort_by_start() -> None:
    times = [STARTED + timedelta(milliseconds=ms) for ms in (0, 1, 999, 1000, 60_000, 86_400_000)]
    names = [capture_name(t, "zz" if i % 2 else "aa", 100 - i) for i, t in enumerate(times)]
    assert sorted(names) == names


@pytest.mark.parametrize(
    ("user_agent", "slug"),
    [
        ("cartesia-python/4.2.0", "cartesia-python-4.2.0"),
        ("LiveKit Agents Cartesia Plugin/1.8.9", "LiveKit-Agents-Cartesia-Plugin-1.8.9"),
        ("Python/3.11 websockets/17.4", "Python-3.11-websockets-17.4"),
        ('..\\..\\evil:"name"|<>?*', "evil-name"),
        ("/etc/passwd", "etc-passwd"),
        ("CON", "CON"),
        ("über-client/1.0 (Linux; x86_64)", "ber-client-1.0-Linux-x86_64"),
        ("日本語", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
        ("no User-Agent", "no-User-Agent"),
    ],
)
def test_the_client_part_is_safe_on_every_file_system(user_agent: str | None, slug: str) -> None:
    assert client_slug(user_agent) == slug


def test_the_client_part_is_bounded() -> None:
    slug = client_slug("a/" * 500)
    assert len(slug) <= MAX_CLIENT
    assert not slug.endswith(("-", ".", "_"))
    name = capture_name(STARTED, "x" * 10_000 + "\x00\n", 123456)
    assert len(name) < 100
    assert not UNSAFE & set(name)
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{3}Z-[A-Za-z0-9._-]+-c123456", name)


def _frame(text: str) -> Frame:
    return Frame(0, 0.5, 3, Direction.SEND, text)


def test_a_capture_is_written_as_part_then_finished_whole(tmp_path: Path) -> None:
    writer = create_capture(tmp_path, "name", "wss://host/tts?api_key=k", secrets=["sk_secret_1"], note="n")
    assert writer.path == tmp_path / "name.jsonl.part"
    writer.write(_frame('{"transcript": "sk_secret_1"}'))
    assert unfinished_captures(tmp_path) == [writer.path]
    writer.close()
    final = finish_capture(writer.path)
    assert final == tmp_path / "name.jsonl"
    assert unfinished_captures(tmp_path) == []
    loaded = read_capture(final)
    assert loaded.header.target == "wss://host/tts?api_key=REDACTED"
    assert loaded.header.note == "n"
    assert [f.text for f in loaded.frames] == ['{"transcript": "REDACTED"}']
    assert stem(final) == stem(writer.path) == "name"


def test_a_name_already_taken_gets_a_number(tmp_path: Path) -> None:
    (tmp_path / "name.jsonl").write_text("finished earlier")
    (tmp_path / "name-2.jsonl.part").write_text("being written by another proxy")
    writer = create_capture(tmp_path, "name", "ws://host")
    writer.close()
    assert writer.path.name == "name-3.jsonl.part"
    assert (tmp_path / "name.jsonl").read_text() == "finished earlier"


def test_only_a_capture_being_written_is_finished(tmp_path: Path) -> None:
    done = tmp_path / "name.jsonl"
    done.write_text("x")
    with pytest.raises(ValueError, match="not a capture being written"):
        finish_capture(done)
    with pytest.raises(FileNotFoundError):
        finish_capture(tmp_path / "missing.jsonl.part")
    assert done.read_text() == "x"

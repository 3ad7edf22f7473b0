"""Captures of calls and a dataset built from them, and the questions docs/DATASET.md asks in both dialects,
for the dataset's tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from flushscope.core.frames import Direction, meta_text
from flushscope.core.store.capture_writer import CaptureWriter
from session_wire import RecordedWire

ROOT = Path(__file__).resolve().parents[1]
DAY1 = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
DAY2 = datetime(2026, 1, 13, 9, 30, tzinfo=UTC)


def write_call(
    path: Path,
    started: datetime = DAY1,
    *,
    client: str | None = "pipecat/1.0",
    skip_flush_id: bool = False,
    slow: float = 0.0,
    cut_word: bool = False,
) -> Path:
    """A capture of one connection (of ``client``, as the proxy records it) with one context of two flushed
    segments; the server skips a flush_id if asked, ``slow`` delays the first audio by so many seconds, and
    ``cut_word`` gives the first segment word timestamps that end after its audio."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket", started=started) as writer:
        wire = RecordedWire(writer)
        wire.add(
            Direction.META,
            meta_text("connect", url="ws://127.0.0.1:1/tts/websocket", client=client, port=5000),
        )
        for text in ("Hello there. ", "How are you?"):
            wire.send("a", text)
            wire.flush("a")
        wire.end("a")
        for ordinal, flush_id in enumerate((1, 3) if skip_flush_id else (1, 2)):
            wire.chunk("a", flush_id, dt=0.01 + (slow if ordinal == 0 else 0.0))
            wire.chunk("a", flush_id)
            if cut_word and ordinal == 0:
                wire.words("a", flush_id, ["Hello", "there", "friend"])
            wire.flush_done("a", flush_id)
        wire.done("a")
        wire.close()
    return path


def documented_queries() -> list[tuple[str, str, str]]:
    """Each question of docs/DATASET.md: its name, its DuckDB SQL and its Spark SQL."""
    doc = (ROOT / "docs" / "DATASET.md").read_text()
    found = []
    for name, body in re.findall(r"<!-- query: ([\w-]+) -->\n(.*?)(?=<!-- query:|\n## )", doc, re.DOTALL):
        duck, spark = re.findall(r"```sql\n(.*?)```", body, re.DOTALL)
        found.append((name, duck, spark))
    return found

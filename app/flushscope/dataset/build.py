"""Building a dataset from recordings: each one read, analysed and written once, incrementally.

A recording already in the dataset with the same size and fingerprint
(:mod:`~flushscope.dataset.sources`) is skipped; one whose file changed is replaced, its old rows taken out
before its new ones go in, so that no capture is ever there twice. Memory is bounded by one recording's
session and one batch of rows, whatever the size of the dataset.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import flushscope
from flushscope.dataset.extract import ExtractError, extract
from flushscope.dataset.sources import SourceFile, find_sources, read_source
from flushscope.dataset.store import DatasetWriter


class Outcome(StrEnum):
    """What a build did with one recording."""

    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class Step:
    """One recording's outcome, with the reason when it failed (one sentence, naming the file)."""

    path: str
    outcome: Outcome
    reason: str | None = None


@dataclass
class BuildResult:
    """What a build did: a step per recording, the parts left alone, and whether it found the dataset as an
    interrupted build had left it (and cleaned it)."""

    steps: list[Step] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    recovered: bool = False

    def count(self, outcome: Outcome) -> int:
        return sum(1 for step in self.steps if step.outcome is outcome)

    @property
    def usable(self) -> int:
        """Recordings now in the dataset from this build's inputs (added, replaced or unchanged)."""
        return len(self.steps) - self.count(Outcome.FAILED)


def _day(started: datetime | None, source: SourceFile) -> str:
    """The partition of a capture: the UTC day it started (the file's time when its header does not say)."""
    moment = started if started is not None else source.mtime
    return f"{moment.astimezone(UTC):%Y-%m-%d}"


def build_dataset(
    inputs: Iterable[str | os.PathLike[str]],
    out: Path,
    *,
    chunks: bool = False,
    rebuild: bool = False,
    progress: Callable[[Step], None] | None = None,
) -> BuildResult:
    """Add the recordings of ``inputs`` (files, or folders searched for ``*.jsonl`` and ``*.har``) to the
    dataset at ``out``, made if missing. ``chunks`` adds the ``chunks`` table; ``rebuild`` reads every
    recording again even if unchanged. ``progress`` hears of each recording as it is done. Raises
    :class:`~flushscope.dataset.store.DatasetError` when ``out`` cannot be used."""
    result = BuildResult()
    found = find_sources(inputs)
    result.parts = [os.fspath(p) for p in found.parts]

    def done(step: Step) -> None:
        result.steps.append(step)
        if progress is not None:
            progress(step)

    for where, reason in found.problems:
        done(Step(where, Outcome.FAILED, f"{where}: {reason}"))
    with DatasetWriter(out) as writer:
        result.recovered = writer.interrupted
        seen: dict[str, str] = {}
        for path in found.files:
            name = os.fspath(path)
            try:
                source = read_source(path)
            except OSError as exc:
                done(Step(name, Outcome.FAILED, f"{name}: cannot be read: {exc.strerror or exc}"))
                continue
            if source.capture_id in seen:
                done(Step(name, Outcome.UNCHANGED, f"{name}: the same capture as {seen[source.capture_id]}"))
                continue
            seen[source.capture_id] = name
            done(_one(writer, source, chunks=chunks, rebuild=rebuild))
    return result


def _one(writer: DatasetWriter, source: SourceFile, *, chunks: bool, rebuild: bool) -> Step:
    name = os.fspath(source.path)
    held = writer.manifest.get(source.capture_id)
    if (
        held is not None
        and not rebuild
        and (held.size, held.fingerprint) == (source.size, source.fingerprint)
    ):
        return Step(name, Outcome.UNCHANGED)
    facts = {
        "capture_id": source.capture_id,
        "path": os.path.abspath(name),
        "name": source.path.name,
        "file_size": source.size,
        "file_mtime": source.mtime,
        "fingerprint": source.fingerprint,
        "built_at": datetime.now(UTC),
        "builder": f"flushscope {flushscope.__version__}",
    }
    try:
        extracted = extract(source.path, facts, chunks=chunks)
    except ExtractError as exc:
        return Step(name, Outcome.FAILED, str(exc))
    writer.remove([source.capture_id])
    writer.add(_day(extracted.started, source), extracted.tables)
    return Step(name, Outcome.ADDED if held is None else Outcome.REPLACED)

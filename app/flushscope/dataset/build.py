"""Building a dataset from recordings: each one read, analysed and written once, incrementally.

A recording already in the dataset with the same size and fingerprint
(:mod:`~flushscope.dataset.sources`) is skipped; one whose file changed is replaced, its old rows taken out
before its new ones go in, so that no capture is ever there twice. Memory is bounded by one recording's
session per job and one batch of rows, whatever the size of the dataset.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import flushscope
from flushscope.dataset.extract import Extracted, ExtractError, extract
from flushscope.dataset.sources import SourceFile, find_sources, read_source
from flushscope.dataset.store import DatasetWriter

_T = TypeVar("_T")


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


def _extract(source: SourceFile, chunks: bool) -> Extracted | ExtractError:
    """One recording's rows, or why it has none (returned, not raised, so that it crosses processes as is)."""
    name = os.fspath(source.path)
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
        return extract(source.path, facts, chunks=chunks)
    except ExtractError as exc:
        return exc


class _Here(Executor):
    """Runs each call at once, in this process: a build with one job."""

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: Future[_T] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class _Alongside(Executor):
    """Runs one call in ``jobs`` in this process and the others in ``jobs - 1`` worker processes: the
    build's own process reads recordings too, so ``jobs`` reads at once cost ``jobs`` processes, each with
    its own copy of the libraries, not one more."""

    def __init__(self, jobs: int) -> None:
        # Spawned, not forked: this process may have Arrow's threads by then.
        self._pool = ProcessPoolExecutor(jobs - 1, mp_context=get_context("spawn"))
        self._here = _Here()
        self._jobs = jobs
        self._submitted = 0

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        self._submitted += 1
        pool: Executor = self._here if self._submitted % self._jobs == 0 else self._pool
        return pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait, cancel_futures=cancel_futures)


@dataclass(frozen=True)
class _Work:
    """A recording in the build's queue: its step when known, else what is extracting it."""

    name: str
    step: Step | None = None
    source: SourceFile | None = None
    replaces: bool = False
    rows: Future[Extracted | ExtractError] | None = None

    def finish(self, writer: DatasetWriter) -> Step:
        if self.step is not None:
            return self.step
        assert self.rows is not None and self.source is not None
        extracted = self.rows.result()
        if isinstance(extracted, ExtractError):
            return Step(self.name, Outcome.FAILED, str(extracted))
        writer.remove([self.source.capture_id])
        writer.add(_day(extracted.started, self.source), extracted.tables)
        return Step(self.name, Outcome.REPLACED if self.replaces else Outcome.ADDED)


def build_dataset(
    inputs: Iterable[str | os.PathLike[str]],
    out: Path,
    *,
    chunks: bool = False,
    rebuild: bool = False,
    jobs: int = 1,
    progress: Callable[[Step], None] | None = None,
) -> BuildResult:
    """Add the recordings of ``inputs`` (files, or folders searched for ``*.jsonl`` and ``*.har``) to the
    dataset at ``out``, made if missing. ``chunks`` adds the ``chunks`` table; ``rebuild`` reads every
    recording again even if unchanged; ``jobs`` recordings are read at once, in as many processes, this
    one included (1: in this one alone). ``progress`` hears of each recording as it is done, in the order found. Raises
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
    pool: Executor = _Alongside(jobs) if jobs > 1 else _Here()
    with pool, DatasetWriter(out) as writer:
        result.recovered = writer.interrupted
        queue: deque[_Work] = deque()
        for work in _plan(found.files, writer, pool, chunks=chunks, rebuild=rebuild):
            queue.append(work)
            # In order, and never more than a few recordings' rows waiting in memory.
            while queue and (len(queue) > 2 * jobs or queue[0].rows is None or queue[0].rows.done()):
                done(queue.popleft().finish(writer))
        while queue:
            done(queue.popleft().finish(writer))
    return result


def _plan(
    files: list[Path], writer: DatasetWriter, pool: Executor, *, chunks: bool, rebuild: bool
) -> Iterator[_Work]:
    """Each file's work: a step already known (unreadable, a copy, unchanged), or its extraction started."""
    seen: dict[str, str] = {}
    for path in files:
        name = os.fspath(path)
        try:
            source = read_source(path)
        except OSError as exc:
            yield _Work(name, Step(name, Outcome.FAILED, f"{name}: cannot be read: {exc.strerror or exc}"))
            continue
        if source.capture_id in seen:
            yield _Work(
                name, Step(name, Outcome.UNCHANGED, f"{name}: the same capture as {seen[source.capture_id]}")
            )
            continue
        seen[source.capture_id] = name
        held = writer.manifest.get(source.capture_id)
        if (
            held is not None
            and not rebuild
            and (held.size, held.fingerprint) == (source.size, source.fingerprint)
        ):
            yield _Work(name, Step(name, Outcome.UNCHANGED))
            continue
        yield _Work(
            name, source=source, replaces=held is not None, rows=pool.submit(_extract, source, chunks)
        )

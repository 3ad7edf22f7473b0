"""A dataset in one page: calls, rates of anomalies, lints and boundary flags by kind, time to first audio by
model and voice and by client, the worst calls; for one period, or two compared (Qt-free, typed)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import duckdb

from flushscope.dataset.calls import CallRow, query_calls
from flushscope.dataset.duck import connect, pick_captures

#: How many of the worst calls a summary lists.
WORST: Final = 10

TOTALS_SQL: Final = """
SELECT (SELECT count(*) FROM picked) AS captures,
       count(*) AS calls,
       coalesce(sum(n.contexts), 0) AS contexts,
       coalesce(sum(n.segments), 0) AS segments,
       count(*) FILTER (WHERE n.problems > 0) AS calls_with_problems,
       count(*) FILTER (WHERE n.word_cuts > 0) AS calls_with_word_cuts,
       (SELECT coalesce(sum(c.audio_seconds), 0) FROM captures c JOIN picked p ON p.capture_id = c.capture_id)
           AS audio_seconds,
       (SELECT min(started) FROM picked) AS first_started,
       (SELECT max(started) FROM picked) AS last_started
FROM connections n JOIN picked p ON p.capture_id = n.capture_id
"""

#: Per kind: how many findings, and in how many calls (a call: a capture and connection).
KINDS_SQL: Final = """
SELECT {kind} AS kind, {severity} AS severity, count(*) AS found,
       count(DISTINCT concat(t.capture_id, ':', CAST(t.conn AS VARCHAR))) AS calls
FROM {table} t JOIN picked p ON p.capture_id = t.capture_id
GROUP BY {kind}, {severity}
ORDER BY calls DESC, found DESC, kind
"""

FLAGS_SQL: Final = """
SELECT flag AS kind, NULL AS severity, count(*) AS found,
       count(DISTINCT concat(capture_id, ':', CAST(conn AS VARCHAR))) AS calls
FROM (SELECT b.capture_id, b.conn, unnest(b.flags) AS flag
      FROM boundaries b JOIN picked p ON p.capture_id = b.capture_id)
GROUP BY flag
ORDER BY calls DESC, found DESC, kind
"""

#: Time to first audio of all segments, by model and voice, and by client, in one pass (``grouped``: 7 for
#: all segments, 1 for model and voice, 6 for client), the three percentiles of a group from one sort.
LATENCY_SQL: Final = """
SELECT GROUPING(s.model, s.voice, s.client) AS grouped, s.model, s.voice, s.client, count(*) AS segments,
       quantile_cont(s.first_audio_ms, [0.5, 0.95, 0.99]) AS percentiles
FROM segments s JOIN picked p ON p.capture_id = s.capture_id
WHERE s.first_audio_ms IS NOT NULL
GROUP BY GROUPING SETS ((), (s.model, s.voice), (s.client))
"""


@dataclass(frozen=True)
class Totals:
    """How much a period holds. A call is one connection of a capture."""

    captures: int
    calls: int
    contexts: int
    segments: int
    calls_with_problems: int
    calls_with_word_cuts: int
    audio_seconds: float
    first_started: datetime | None
    last_started: datetime | None


@dataclass(frozen=True)
class KindRate:
    """One kind of anomaly, lint or boundary flag: how often it was found, in how many calls, and the share
    of the period's calls that had it (0 to 1)."""

    kind: str
    severity: str | None
    found: int
    calls: int
    rate: float


@dataclass(frozen=True)
class Latency:
    """Time to first audio of the segments of one group (``group``: its values, such as model and voice;
    empty for all segments), in milliseconds."""

    group: tuple[str | None, ...]
    segments: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class PeriodSummary:
    """The page of one period: captures that started in [``since``, ``until``), either end open when None."""

    since: datetime | None
    until: datetime | None
    totals: Totals
    anomalies: list[KindRate]
    lints: list[KindRate]
    boundary_flags: list[KindRate]
    first_audio: Latency
    by_model_voice: list[Latency]
    by_client: list[Latency]
    worst: list[CallRow]


@dataclass(frozen=True)
class Summary:
    """A dataset's summary: its period, and when ``split`` is given, the part before it and the part from
    it on, to compare (say, before and after a release)."""

    period: PeriodSummary
    split: datetime | None = None
    before: PeriodSummary | None = None
    after: PeriodSummary | None = None

    def to_json(self) -> dict[str, Any]:
        """As plain JSON values (times in ISO 8601, groups as lists)."""
        result: dict[str, Any] = _plain(dataclasses.asdict(self))
        return result


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _kinds(con: duckdb.DuckDBPyConnection, sql: str, calls: int) -> list[KindRate]:
    return [
        KindRate(kind, severity, found, hit, hit / calls if calls else 0.0)
        for kind, severity, found, hit in con.execute(sql).fetchall()
    ]


def _latencies(con: duckdb.DuckDBPyConnection) -> tuple[Latency, list[Latency], list[Latency]]:
    """All segments, by model and voice, by client: the biggest groups first."""
    found: dict[int, list[Latency]] = {7: [], 1: [], 6: []}
    for grouped, model, voice, client, segments, percentiles in con.execute(LATENCY_SQL).fetchall():
        group = {7: (), 1: (model, voice), 6: (client,)}[grouped]
        # No segment at all: the grand total is one row without percentiles.
        p50, p95, p99 = percentiles or (None, None, None)
        found[grouped].append(Latency(group, segments, p50, p95, p99))
    for rows in found.values():
        rows.sort(key=lambda r: (-r.segments, [(v is None, v or "") for v in r.group]))
    overall = found[7][0] if found[7] else Latency((), 0, None, None, None)
    return overall, found[1], found[6]


def period_summary(
    con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None, worst: int = WORST
) -> PeriodSummary:
    """The summary of the captures that started in [``since``, ``until``), on a connection from
    :func:`~flushscope.dataset.duck.connect`."""
    pick_captures(con, since, until)
    row = con.execute(TOTALS_SQL).fetchone()
    assert row is not None  # an aggregate without GROUP BY always answers one row
    totals = Totals(*row)
    calls = totals.calls
    first_audio, by_model_voice, by_client = _latencies(con)
    return PeriodSummary(
        since=since,
        until=until,
        totals=totals,
        anomalies=_kinds(
            con, KINDS_SQL.format(kind="t.kind", severity="t.severity", table="anomalies"), calls
        ),
        lints=_kinds(con, KINDS_SQL.format(kind="t.lint", severity="NULL", table="lints"), calls),
        boundary_flags=_kinds(con, FLAGS_SQL, calls),
        first_audio=first_audio,
        by_model_voice=by_model_voice,
        by_client=by_client,
        worst=query_calls(con, worst),
    )


def summary(
    root: str | os.PathLike[str],
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    split: datetime | None = None,
    worst: int = WORST,
) -> Summary:
    """The summary of the dataset at ``root`` over the captures that started in [``since``, ``until``); with
    ``split``, also of the part before ``split`` and of the part from it on. Raises
    :class:`~flushscope.dataset.store.DatasetError` when ``root`` is not a dataset."""
    with connect(root) as con:
        whole = period_summary(con, since, until, worst)
        if split is None:
            return Summary(whole)
        before = period_summary(con, since, split, worst)
        after = period_summary(con, split, until, worst)
        return Summary(whole, split, before, after)

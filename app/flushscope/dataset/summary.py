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

LATENCY_SQL: Final = """
SELECT {columns}count(*) AS segments,
       quantile_cont(s.first_audio_ms, 0.5) AS p50_ms,
       quantile_cont(s.first_audio_ms, 0.95) AS p95_ms,
       quantile_cont(s.first_audio_ms, 0.99) AS p99_ms
FROM segments s JOIN picked p ON p.capture_id = s.capture_id
WHERE s.first_audio_ms IS NOT NULL
{group}
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


def _latency(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...]) -> list[Latency]:
    listed = "".join(f"s.{c}, " for c in columns)
    group = (
        f"GROUP BY {', '.join('s.' + c for c in columns)} ORDER BY segments DESC, "
        + ", ".join(f"s.{c} NULLS LAST" for c in columns)
        if columns
        else ""
    )
    rows = con.execute(LATENCY_SQL.format(columns=listed, group=group)).fetchall()
    width = len(columns)
    return [Latency(tuple(row[:width]), *row[width:]) for row in rows]


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
    return PeriodSummary(
        since=since,
        until=until,
        totals=totals,
        anomalies=_kinds(
            con, KINDS_SQL.format(kind="t.kind", severity="t.severity", table="anomalies"), calls
        ),
        lints=_kinds(con, KINDS_SQL.format(kind="t.lint", severity="NULL", table="lints"), calls),
        boundary_flags=_kinds(con, FLAGS_SQL, calls),
        first_audio=_latency(con, ())[0],
        by_model_voice=_latency(con, ("model", "voice")),
        by_client=_latency(con, ("client",)),
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

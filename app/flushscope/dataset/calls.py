"""The calls of a dataset: one row per capture and connection, ranked by their problems (a Qt-free API for a
table of calls, and the worst calls of the summary)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import duckdb

from flushscope.dataset.duck import connect, pick_captures

#: Worst first: problems (warning and error anomalies), then cut words, lints, and slow first audio.
CALLS_SQL: Final = """
SELECT p.capture_id, p.path, n.conn, n.client, p.started, n.opened_s, n.closed_s, c.duration_s,
       n.contexts, n.segments, n.problems, n.anomalies, n.lints, n.word_cuts, n.first_audio_p95_ms
FROM connections n
JOIN picked p ON p.capture_id = n.capture_id
JOIN captures c ON c.capture_id = n.capture_id
ORDER BY n.problems DESC, n.word_cuts DESC, n.lints DESC, n.first_audio_p95_ms DESC NULLS LAST,
         p.started, p.capture_id, n.conn
"""


@dataclass(frozen=True)
class CallRow:
    """One call: a connection of a capture. ``started`` is when the connection opened (the capture's start
    when it has no connect event; None when the capture's start is unknown); ``duration_s`` how long it was
    open (to the end of the capture when it was not closed). ``problems`` counts warning and error anomalies,
    ``word_cuts`` flush boundaries whose last word ends past its audio."""

    capture_id: str
    capture_path: str
    conn: int
    client: str | None
    started: datetime | None
    duration_s: float
    contexts: int
    segments: int
    problems: int
    anomalies: int
    lints: int
    word_cuts: int
    first_audio_p95_ms: float | None


def query_calls(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> list[CallRow]:
    """The calls of the ``picked`` captures (:func:`~flushscope.dataset.duck.pick_captures`), worst first."""
    sql = CALLS_SQL + (f" LIMIT {int(limit)}" if limit is not None else "")
    rows = []
    for row in con.execute(sql).fetchall():
        cid, path, conn, client, started, opened, closed, length = row[:8]
        contexts, segments, problems, anomalies, lints, word_cuts, p95 = row[8:]
        opened_s = opened or 0.0
        end = closed if closed is not None else length
        rows.append(
            CallRow(
                capture_id=cid,
                capture_path=path,
                conn=conn,
                client=client,
                started=started + timedelta(seconds=opened_s) if started is not None else None,
                duration_s=max(0.0, end - opened_s) if end is not None else 0.0,
                contexts=contexts,
                segments=segments,
                problems=problems,
                anomalies=anomalies,
                lints=lints,
                word_cuts=word_cuts,
                first_audio_p95_ms=p95,
            )
        )
    return rows


def calls(
    root: str | os.PathLike[str], since: datetime | None = None, until: datetime | None = None
) -> list[CallRow]:
    """Every call of the dataset at ``root`` whose capture started in [``since``, ``until``), worst first.
    Raises :class:`~flushscope.dataset.store.DatasetError` when ``root`` is not a dataset."""
    with connect(root) as con:
        pick_captures(con, since, until)
        return query_calls(con)

"""One recording turned into the rows of every table: the only module of the dataset that reads the core.

It depends on these names alone, so that a change of the session's API touches this file and no other:
:func:`~flushscope.core.formats.recordings.open_recording` (its ``session``, ``header`` and ``warnings``)
and :func:`~flushscope.core.formats.recordings.detect_format`; of the session, ``finish``, ``connections``,
``contexts``, ``anomalies``, ``frames`` (its length, and ``close``), ``duration`` and ``chunks`` (the chunk
columns, for the ``chunks`` table); :func:`~flushscope.core.analysis.report.build_report` and
:func:`~flushscope.core.analysis.report.reported_segments` (the segments, anomalies, lints and boundaries
are those of ``report --json``, so that the dataset answers as the report does),
:func:`~flushscope.core.analysis.lint_cache.lint_session`,
:func:`~flushscope.core.analysis.boundaries.session_boundaries`; the plain records ``Context``, ``Segment``
and ``ConnectionInfo`` (:mod:`flushscope.core.model.records`) and ``Anomaly``
(:mod:`flushscope.core.model.anomalies`); and the errors ``CaptureError`` and ``StoreError``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from flushscope.core.analysis.boundaries import session_boundaries
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.report import build_report, reported_segments
from flushscope.core.formats.recordings import (
    OpenedRecording,
    RecordingFormat,
    detect_format,
    open_recording,
)
from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.records import ConnectionInfo, Context, Segment
from flushscope.core.store.chunk_columns import ChunkColumns
from flushscope.core.store.line_format import CaptureError
from flushscope.core.store.line_storage import StoreError
from flushscope.dataset.schema import TABLES

__all__ = ["ExtractError", "Extracted", "extract"]


class ExtractError(Exception):
    """A recording that cannot be read or analysed; the message is one sentence that names the file."""


@dataclass(frozen=True)
class Extracted:
    """The rows of one recording, a table each (every table of :data:`~flushscope.dataset.schema.TABLES`,
    ``chunks`` only when asked for), and when it started (None when its header does not say)."""

    started: datetime | None
    tables: dict[str, pa.Table]


def extract(path: str | os.PathLike[str], facts: Mapping[str, Any], *, chunks: bool = False) -> Extracted:
    """Open the recording at ``path`` and analyse it as ``flushscope report`` does. ``facts`` are the
    ``captures`` columns about the file that the builder knows (``capture_id``, ``path``, sizes, times);
    every row carries ``facts["capture_id"]``. Raises :class:`ExtractError`."""
    name = os.fspath(path)
    opened: OpenedRecording | None = None
    try:
        kind = detect_format(path)
        opened = open_recording(path)
        session = opened.session
        session.finish()
        lints = lint_session(session)
        boundaries = session_boundaries(session)
        report = build_report(session, lints=lints, boundaries=boundaries)
        tables = _tables(opened, kind, report, facts, chunks=chunks)
    except CaptureError as exc:
        raise ExtractError(str(exc)) from None
    except (StoreError, OSError) as exc:
        raise ExtractError(f"{name}: cannot be read: {exc}") from None
    except Exception as exc:
        # One recording the analysis trips on must not stop a build of thousands; `flushscope report` on it
        # shows the whole error.
        raise ExtractError(f"{name}: could not be analysed ({type(exc).__name__}: {exc})") from None
    finally:
        # The session reads its frames back from the file: close it now rather than when the collector
        # gets to the records' cycles.
        if opened is not None:
            opened.session.frames.close()
    return Extracted(opened.header.started_at(), tables)


def _tables(
    opened: OpenedRecording,
    kind: RecordingFormat,
    report: dict[str, Any],
    facts: Mapping[str, Any],
    *,
    chunks: bool,
) -> dict[str, pa.Table]:
    session = opened.session
    capture_id = str(facts["capture_id"])
    connections = _connections(session.connections, session.contexts)
    rows = _Rows(capture_id, connections, session.contexts, session.anomalies, report)
    segment_rows = rows.segments()
    tables = {
        "connections": rows.table(
            "connections", [rows.connection(info, segment_rows) for info in connections]
        ),
        "contexts": rows.table("contexts", [rows.context(ctx) for ctx in session.contexts]),
        "segments": rows.table("segments", segment_rows),
        "anomalies": rows.table("anomalies", rows.anomaly_rows),
        "lints": rows.table("lints", rows.lint_rows),
        "boundaries": rows.table("boundaries", rows.boundaries()),
    }
    capture = {
        **facts,
        "format": kind.value,
        "started": opened.header.started_at(),
        "app": opened.header.app,
        "target": opened.header.target,
        "note": opened.header.note,
        "duration_s": session.duration,
        "connections": len(connections),
        "contexts": len(session.contexts),
        "segments": len(segment_rows),
        "chunks": sum(ctx.chunk_count for ctx in session.contexts),
        "frames": len(session.frames),
        "audio_seconds": sum(ctx.audio_seconds for ctx in session.contexts),
        "anomalies": len(report["anomalies"]),
        "problems": sum(rows.per_conn["problems"].values()),
        "lints": len(report["lints"]),
        "boundaries": len(report["boundaries"]),
        "boundary_outliers": sum(1 for b in report["boundaries"] if b["outlier"]),
        "word_cuts": sum(rows.per_conn["word_cuts"].values()),
        "warnings": list(opened.warnings),
    }
    tables["captures"] = rows.table("captures", [capture])
    if chunks:
        tables["chunks"] = _chunk_table(capture_id, session.contexts, session.chunks)
    return tables


def _connections(known: Mapping[int, ConnectionInfo], contexts: list[Context]) -> list[ConnectionInfo]:
    """Every connection of the session: those its meta events describe, and those only its contexts name
    (a recording made without connect events)."""
    found = dict(known)
    for ctx in contexts:
        found.setdefault(ctx.conn, ConnectionInfo(ctx.conn))
    return [found[number] for number in sorted(found)]


def _voice(voice: object) -> str | None:
    """A voice as one string, whatever shape the client sent it in (an id, ``{"id"}``, an embedding)."""
    if voice is None or isinstance(voice, str):
        return voice
    if isinstance(voice, dict):
        if isinstance(voice.get("id"), str):
            return str(voice["id"])
        if voice.get("embedding") is not None:
            return "embedding"
    return str(voice)


def _settings(ctx: Context, client: str | None) -> dict[str, Any]:
    request, fmt = ctx.request, ctx.format
    return {
        "client": client,
        "model": request.model_id if request is not None else None,
        "voice": _voice(request.voice) if request is not None else None,
        "language": request.language if request is not None else None,
        "encoding": fmt.encoding.value if fmt is not None else None,
        "sample_rate": fmt.sample_rate if fmt is not None else None,
    }


class _Rows:
    """The rows of one session, from its records and its report (the report's values, rounded as it rounds
    them, wherever the report has the figure)."""

    def __init__(
        self,
        capture_id: str,
        connections: list[ConnectionInfo],
        contexts: list[Context],
        anomalies: list[Anomaly],
        report: dict[str, Any],
    ) -> None:
        self.capture_id = capture_id
        self.contexts = contexts
        # The User-Agent of each connection's app (the contexts' own label adds the port).
        self.client_of = {info.number: info.client for info in connections}
        self.report = report
        self.conn_of = {ctx.number: ctx.conn for ctx in contexts}
        # The report names an anomaly's context by id alone; the model's anomaly, in the same order, knows
        # its connection and context number.
        self.anomaly_rows = [
            {
                "conn": model.conn,
                "context_number": model.context_number,
                "context_id": a["context_id"],
                "flush_id": a["flush_id"],
                "kind": a["kind"],
                "severity": a["severity"],
                "message": a["message"],
                "first_frame": a["frames"][0] if a["frames"] else None,
                "frames": a["frames"],
                "count": a["count"],
            }
            for model, a in zip(anomalies, report["anomalies"], strict=True)
        ]
        self.lint_rows = [
            {
                "conn": lint["conn"],
                "context_number": lint["context_number"],
                "context_id": lint["context_id"],
                "flush_id": lint["flush_id"],
                "lint": lint["id"],
                "severity": lint["severity"],
                "message": lint["message"],
                "advice": lint["advice"],
                "first_frame": lint["frames"][0] if lint["frames"] else None,
                "frames": lint["frames"],
            }
            for lint in report["lints"]
        ]
        # The boundary out of each segment and into it, by context number and segment (from 1).
        self.after: dict[tuple[int, int], dict[str, Any]] = {}
        self.before: dict[tuple[int, int], dict[str, Any]] = {}
        for b in report["boundaries"]:
            self.after[(b["context_number"], b["from_segment"])] = b
            self.before[(b["context_number"], b["to_segment"])] = b
        cuts = [b for b in report["boundaries"] if any(f["kind"] == "word_cut" for f in b["flags"])]
        # Counts per segment (context number, flush_id) and per connection, for the rows that carry them.
        self.per_segment = {
            "anomalies": Counter((r["context_number"], r["flush_id"]) for r in self.anomaly_rows),
            "lints": Counter((r["context_number"], r["flush_id"]) for r in self.lint_rows),
        }
        self.per_conn = {
            "anomalies": Counter(r["conn"] for r in self.anomaly_rows),
            "problems": Counter(r["conn"] for r in self.anomaly_rows if r["severity"] != "info"),
            "lints": Counter(r["conn"] for r in self.lint_rows),
            "word_cuts": Counter(self.conn_of.get(b["context_number"]) for b in cuts),
        }

    def table(self, name: str, rows: list[dict[str, Any]]) -> pa.Table:
        if name != "captures":
            for row in rows:
                row["capture_id"] = self.capture_id
        return pa.Table.from_pylist(rows, schema=TABLES[name])

    def connection(self, info: ConnectionInfo, segments: list[dict[str, Any]]) -> dict[str, Any]:
        mine = [s for s in segments if s["conn"] == info.number]
        latencies = [s["first_audio_ms"] for s in mine if s["first_audio_ms"] is not None]
        return {
            "conn": info.number,
            "client": info.client,
            "port": info.port,
            "url": info.url,
            "opened_s": info.opened_t,
            "closed_s": info.closed_t,
            "close_code": info.close_code,
            "close_reason": info.close_reason,
            "error": info.error,
            "contexts": sum(1 for ctx in self.contexts if ctx.conn == info.number),
            "segments": len(mine),
            **{name: counts[info.number] for name, counts in self.per_conn.items()},
            # Interpolated between the two nearest values, as quantile_cont (DuckDB) and percentile (Spark).
            "first_audio_p95_ms": float(np.percentile(latencies, 95)) if latencies else None,
        }

    def context(self, ctx: Context) -> dict[str, Any]:
        fmt = ctx.format
        return {
            "conn": ctx.conn,
            "context_number": ctx.number,
            "context_id": ctx.context_id,
            "name": ctx.name,
            **_settings(ctx, self.client_of.get(ctx.conn)),
            "container": fmt.container if fmt is not None else None,
            "state": ctx.state.value,
            "error": ctx.error,
            "flush_id_base": ctx.base,
            "first_s": ctx.first_t,
            "end_s": ctx.end_t,
            "done_s": ctx.done_t,
            "cancel_s": ctx.cancel_t,
            "audio_seconds": round(ctx.audio_seconds, 4),
            "chunks": ctx.chunk_count,
            "segments": len(reported_segments(ctx)),
            "flushes": ctx.flushes_sent,
        }

    def segments(self) -> list[dict[str, Any]]:
        reported = {c["number"]: c["segments"] for c in self.report["contexts"]}
        rows = []
        for ctx in self.contexts:
            settings = _settings(ctx, self.client_of.get(ctx.conn))
            for segment, summary in zip(reported_segments(ctx), reported[ctx.number], strict=True):
                rows.append(self._segment(ctx, segment, summary, settings))
        return rows

    def _segment(
        self, ctx: Context, segment: Segment, summary: dict[str, Any], settings: dict[str, Any]
    ) -> dict[str, Any]:
        position = segment.ordinal + 1
        after = self.after.get((ctx.number, position))
        before = self.before.get((ctx.number, position))
        flags = [f["kind"] for f in after["flags"]] if after is not None else []
        key = (ctx.number, summary["flush_id"])
        return {
            "conn": ctx.conn,
            "context_number": ctx.number,
            "context_id": ctx.context_id,
            "context_name": ctx.name,
            "segment": position,
            "flush_id": summary["flush_id"],
            "label": segment.label,
            "transcript": "".join(summary["transcripts"]),
            "transcripts": summary["transcripts"],
            "state": summary["state"],
            "server_only": segment.server_only,
            **settings,
            "sent_s": segment.first_send_t,
            "flush_s": segment.flush_t,
            "first_audio_s": segment.first_audio_t,
            "last_chunk_s": segment.last_chunk_t,
            "flush_done_s": segment.flush_done_t,
            "first_audio_ms": summary["first_audio_ms"],
            "flush_done_ms": summary["flush_done_ms"],
            "flush_done": summary["flush_done"],
            "audio_seconds": summary["audio_seconds"],
            "start_s": segment.start_seconds,
            "chunks": summary["chunks"],
            "bytes": segment.nbytes,
            "unnumbered_chunks": summary["unnumbered_chunks"],
            "words": len(segment.words),
            # A segment without a flush_id yet cannot be told apart from its context's other findings.
            **{name: counts[key] if key[1] is not None else 0 for name, counts in self.per_segment.items()},
            "leading_silence_ms": before["leading_silence_ms"] if before is not None else None,
            **_after(after, flags),
        }

    def boundaries(self) -> list[dict[str, Any]]:
        rows = []
        for b in self.report["boundaries"]:
            row = {key: value for key, value in b.items() if key not in ("frames", "flags")}
            row["conn"] = self.conn_of.get(b["context_number"])
            row["from_frame"], row["to_frame"] = b["frames"]
            row["flags"] = [f["kind"] for f in b["flags"]]
            row["reasons"] = [f["reason"] for f in b["flags"]]
            rows.append(row)
        return rows


def _after(boundary: dict[str, Any] | None, flags: list[str]) -> dict[str, Any]:
    """The segments columns about the boundary out of a segment (None where it has none: the last segment
    with audio of its context)."""
    if boundary is None:
        return {"boundary_flags": flags}
    return {
        "trailing_silence_ms": boundary["trailing_silence_ms"],
        "pause_after_ms": boundary["pause_ms"],
        "gap_after_ms": boundary["arrival_gap_ms"],
        "level_step_after_db": boundary["level_step_db"],
        "last_word": boundary["last_word"],
        "word_overrun_ms": boundary["word_overrun_ms"],
        # Unknown (None) without word timestamps: the cut cannot be seen then.
        "word_cut": "word_cut" in flags if boundary["last_word"] is not None else None,
        "boundary_flags": flags,
    }


def _chunk_table(capture_id: str, contexts: list[Context], columns: ChunkColumns) -> pa.Table:
    """Every chunk a context took, without its audio: where and when it is, and its size."""
    count = columns.size
    context = columns.column("context")[:count]
    conns = np.array([ctx.conn for ctx in contexts] or [0], dtype=np.int32)
    flush_id = columns.column("flush_id")[:count]
    return pa.table(
        {
            "capture_id": pa.array([capture_id] * count, pa.string()),
            "conn": pa.array(conns[context] if count else [], pa.int32()),
            "context_number": pa.array(context + 1, pa.int32()),
            "segment": pa.array(columns.column("segment")[:count] + 1, pa.int32()),
            "flush_id": pa.array(flush_id, pa.int32(), mask=flush_id < 0),
            "frame": pa.array(columns.column("frame")[:count], pa.int64()),
            "t_s": pa.array(columns.column("t")[:count], pa.float64()),
            "start_s": pa.array(columns.column("start")[:count], pa.float64()),
            "duration_s": pa.array(columns.column("duration")[:count], pa.float64()),
            "bytes": pa.array(columns.column("nbytes")[:count], pa.int32()),
        },
        schema=TABLES["chunks"],
    )

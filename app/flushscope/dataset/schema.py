"""The tables of a dataset and their columns, as Arrow schemas: what the builder writes and the views read.

docs/DATASET.md documents every column; keep the two together. Rows join by ``capture_id``, then ``conn``
(the connection), ``context_number`` (the context's position in its capture) and ``segment`` (the segment's
position in its context, from 1) or ``flush_id``. Times named ``*_s`` are seconds since the capture started
(the capture's clock), ``*_ms`` durations in milliseconds. The ``day`` column is not in the files: it is the
``day=YYYY-MM-DD`` folder each file lies in (Hive-style partitioning).
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

STRING: Final = pa.string()
INT32: Final = pa.int32()
INT64: Final = pa.int64()
FLOAT: Final = pa.float64()
BOOL: Final = pa.bool_()
TIME: Final = pa.timestamp("us", tz="UTC")
STRINGS: Final = pa.list_(pa.string())
INTS: Final = pa.list_(pa.int64())


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in columns])


_CONTEXT_KEY: Final = (
    ("capture_id", STRING),
    ("conn", INT32),
    ("context_number", INT32),
    ("context_id", STRING),
)
_SETTINGS: Final = (
    ("client", STRING),
    ("model", STRING),
    ("voice", STRING),
    ("language", STRING),
    ("encoding", STRING),
    ("sample_rate", INT32),
)

CAPTURES: Final = _schema(
    ("capture_id", STRING),
    ("path", STRING),
    ("name", STRING),
    ("format", STRING),
    ("started", TIME),
    ("app", STRING),
    ("target", STRING),
    ("note", STRING),
    ("duration_s", FLOAT),
    ("connections", INT32),
    ("contexts", INT32),
    ("segments", INT32),
    ("chunks", INT64),
    ("frames", INT64),
    ("audio_seconds", FLOAT),
    ("anomalies", INT32),
    ("problems", INT32),
    ("lints", INT32),
    ("boundaries", INT32),
    ("boundary_outliers", INT32),
    ("word_cuts", INT32),
    ("warnings", STRINGS),
    ("file_size", INT64),
    ("file_mtime", TIME),
    ("fingerprint", STRING),
    ("built_at", TIME),
    ("builder", STRING),
)

CONNECTIONS: Final = _schema(
    ("capture_id", STRING),
    ("conn", INT32),
    ("client", STRING),
    ("port", INT32),
    ("url", STRING),
    ("opened_s", FLOAT),
    ("closed_s", FLOAT),
    ("close_code", INT32),
    ("close_reason", STRING),
    ("error", STRING),
    ("contexts", INT32),
    ("segments", INT32),
    ("anomalies", INT32),
    ("problems", INT32),
    ("lints", INT32),
    ("word_cuts", INT32),
    ("first_audio_p95_ms", FLOAT),
)

CONTEXTS: Final = _schema(
    *_CONTEXT_KEY,
    ("name", STRING),
    *_SETTINGS,
    ("container", STRING),
    ("state", STRING),
    ("error", STRING),
    ("flush_id_base", INT32),
    ("first_s", FLOAT),
    ("end_s", FLOAT),
    ("done_s", FLOAT),
    ("cancel_s", FLOAT),
    ("audio_seconds", FLOAT),
    ("chunks", INT64),
    ("segments", INT32),
    ("flushes", INT32),
)

SEGMENTS: Final = _schema(
    *_CONTEXT_KEY,
    ("context_name", STRING),
    ("segment", INT32),
    ("flush_id", INT32),
    ("label", STRING),
    ("transcript", STRING),
    ("transcripts", STRINGS),
    ("state", STRING),
    ("server_only", BOOL),
    *_SETTINGS,
    ("sent_s", FLOAT),
    ("flush_s", FLOAT),
    ("first_audio_s", FLOAT),
    ("last_chunk_s", FLOAT),
    ("flush_done_s", FLOAT),
    ("first_audio_ms", FLOAT),
    ("flush_done_ms", FLOAT),
    ("flush_done", BOOL),
    ("audio_seconds", FLOAT),
    ("start_s", FLOAT),
    ("chunks", INT32),
    ("bytes", INT64),
    ("unnumbered_chunks", INT32),
    ("words", INT32),
    ("anomalies", INT32),
    ("lints", INT32),
    # The boundary into this segment (from the previous one with audio) and out of it (into the next).
    ("leading_silence_ms", FLOAT),
    ("trailing_silence_ms", FLOAT),
    ("pause_after_ms", FLOAT),
    ("gap_after_ms", FLOAT),
    ("level_step_after_db", FLOAT),
    ("last_word", STRING),
    ("word_overrun_ms", FLOAT),
    ("word_cut", BOOL),
    ("boundary_flags", STRINGS),
)

ANOMALIES: Final = _schema(
    *_CONTEXT_KEY,
    ("flush_id", INT32),
    ("kind", STRING),
    ("severity", STRING),
    ("message", STRING),
    ("first_frame", INT64),
    ("frames", INTS),
    ("count", INT32),
)

LINTS: Final = _schema(
    *_CONTEXT_KEY,
    ("flush_id", INT32),
    ("lint", STRING),
    ("severity", STRING),
    ("message", STRING),
    ("advice", STRING),
    ("first_frame", INT64),
    ("frames", INTS),
)

BOUNDARIES: Final = _schema(
    *_CONTEXT_KEY,
    ("from_segment", INT32),
    ("to_segment", INT32),
    ("from_flush_id", INT32),
    ("to_flush_id", INT32),
    ("from_frame", INT64),
    ("to_frame", INT64),
    ("at_s", FLOAT),
    ("trailing_silence_ms", FLOAT),
    ("leading_silence_ms", FLOAT),
    ("pause_ms", FLOAT),
    ("arrival_gap_ms", FLOAT),
    ("end_level_dbfs", FLOAT),
    ("start_level_dbfs", FLOAT),
    ("level_step_db", FLOAT),
    ("speech_end_level_dbfs", FLOAT),
    ("speech_start_level_dbfs", FLOAT),
    ("speech_level_step_db", FLOAT),
    ("last_word", STRING),
    ("last_word_end_s", FLOAT),
    ("audio_end_s", FLOAT),
    ("word_overrun_ms", FLOAT),
    ("last_word_inside", BOOL),
    ("outlier", BOOL),
    ("flags", STRINGS),
    ("reasons", STRINGS),
)

CHUNKS: Final = _schema(
    ("capture_id", STRING),
    ("conn", INT32),
    ("context_number", INT32),
    ("segment", INT32),
    ("flush_id", INT32),
    ("frame", INT64),
    ("t_s", FLOAT),
    ("start_s", FLOAT),
    ("duration_s", FLOAT),
    ("bytes", INT32),
)

#: Every table, by the name of its folder (and of its view), in the order they are documented.
TABLES: Final[dict[str, pa.Schema]] = {
    "captures": CAPTURES,
    "connections": CONNECTIONS,
    "contexts": CONTEXTS,
    "segments": SEGMENTS,
    "anomalies": ANOMALIES,
    "lints": LINTS,
    "boundaries": BOUNDARIES,
    "chunks": CHUNKS,
}

#: The partition column every table has, from the folder its file lies in.
PARTITION: Final = "day"

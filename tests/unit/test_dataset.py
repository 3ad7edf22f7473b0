"""The dataset: captures turned into Parquet tables incrementally and safely, and the questions DuckDB answers
over them (the command line and the typed API)."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset_support import DAY1, DAY2, documented_queries, write_call
from flushscope import cli
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from flushscope.core.formats.recordings import open_recording
from flushscope.core.shown_text import escaped
from flushscope.dataset.build import Outcome, build_dataset
from flushscope.dataset.calls import calls
from flushscope.dataset.duck import connect
from flushscope.dataset.schema import PARTITION, TABLES
from flushscope.dataset.store import DatasetError, DatasetWriter, table_files
from flushscope.dataset.summary import summary

ROOT = Path(__file__).resolve().parents[2]


def _rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    with connect(root) as con:
        return con.execute(sql).fetchall()


def _files(root: Path) -> dict[str, int]:
    return {
        os.fspath(f.relative_to(root)): f.stat().st_mtime_ns
        for table in TABLES
        for f in table_files(root, table)
    }


# --- building ---------------------------------------------------------------------------------------


def test_every_table_is_written_by_day_with_the_rows_of_eachwrite_call(tmp_path: Path) -> None:
    one = write_call(tmp_path / "in" / "one.fscap.jsonl", DAY1)
    write_call(tmp_path / "in" / "deeper" / "two.fscap.jsonl", DAY2, skip_flush_id=True)
    out = tmp_path / "ds"
    result = build_dataset([tmp_path / "in"], out, chunks=True)
    assert [s.outcome for s in result.steps] == [Outcome.ADDED, Outcome.ADDED]
    # Tables with rows from both captures (the first has no anomaly, neither has a lint).
    for table in ("captures", "connections", "contexts", "segments", "boundaries", "chunks"):
        days = sorted(f.parent.name for f in table_files(out, table))
        assert days == ["day=2026-01-12", "day=2026-01-13"], table
    assert _rows(
        out, "SELECT day, name, connections, contexts, segments, chunks FROM captures ORDER BY day"
    ) == [
        (DAY1.date(), "one.fscap.jsonl", 1, 1, 2, 4),
        (DAY2.date(), "two.fscap.jsonl", 1, 1, 3, 4),
    ]
    assert _rows(out, "SELECT DISTINCT client, port FROM connections") == [("pipecat/1.0", 5000)]
    assert _rows(
        out,
        "SELECT segment, flush_id, transcript, s.chunks, model, voice, encoding, sample_rate, client FROM segments "
        "s JOIN captures USING (capture_id) WHERE name = 'one.fscap.jsonl' ORDER BY segment",
    ) == [
        (1, 1, "Hello there. ", 2, "sonic-3", "v", "pcm_s16le", 24000, "pipecat/1.0"),
        (2, 2, "How are you?", 2, "sonic-3", "v", "pcm_s16le", 24000, "pipecat/1.0"),
    ]
    assert _rows(out, "SELECT kind FROM anomalies") == [
        ("flush_id_skipped",),
        ("flush_done_unrequested",),
        ("done_while_flush_pending",),
    ]
    assert _rows(out, "SELECT count(*), count(DISTINCT capture_id) FROM chunks") == [(8, 2)]
    # The chunks table is the session's chunks, row for row.
    session = open_recording(one).session
    frames = sorted(f for ctx in session.contexts for s in ctx.segments for f in session.chunk_frames(s))
    assert [f for (f,) in _rows(out, "SELECT frame FROM chunks JOIN captures USING (capture_id) "
                                     "WHERE name = 'one.fscap.jsonl' ORDER BY frame")] == frames  # fmt: skip


def test_a_har_file_is_a_capture_too(tmp_path: Path) -> None:
    capture = write_call(tmp_path / "in" / "call.fscap.jsonl")
    assert cli.main(["convert", str(capture), str(tmp_path / "in" / "call.har")]) == EXIT_OK
    out = tmp_path / "ds"
    assert [s.outcome for s in build_dataset([tmp_path / "in"], out).steps] == [Outcome.ADDED, Outcome.ADDED]
    assert _rows(out, "SELECT format, segments, chunks FROM captures ORDER BY format") == [
        ("capture", 2, 4),
        ("har", 2, 4),
    ]


def test_a_table_without_files_is_a_view_with_its_columns(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    build_dataset([write_call(tmp_path / "c.fscap.jsonl")], out)
    assert not table_files(out, "chunks")
    with connect(out) as con:
        cursor = con.execute("SELECT * FROM chunks")
        assert [d[0] for d in cursor.description] == [*TABLES["chunks"].names, PARTITION]
        assert cursor.fetchall() == []


def test_an_unchanged_capture_is_skipped_a_changed_one_replaced_never_twice(tmp_path: Path) -> None:
    capture = write_call(tmp_path / "c.fscap.jsonl")
    other = write_call(tmp_path / "other.fscap.jsonl", DAY2)
    out = tmp_path / "ds"
    build_dataset([capture, other], out)
    before = _files(out)
    again = build_dataset([capture, other], out)
    assert [s.outcome for s in again.steps] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert _files(out) == before
    # A copy elsewhere, or a touched file, is the same capture.
    copy = tmp_path / "elsewhere" / capture.name
    copy.parent.mkdir()
    shutil.copy(capture, copy)
    assert [s.outcome for s in build_dataset([copy], out).steps] == [Outcome.UNCHANGED]

    # The capture grows (a second context): its rows are replaced, the other capture's are kept.
    with open(capture, "a", encoding="utf-8") as file:
        for obj in (
            {"context_id": "b", "model_id": "sonic-3", "transcript": "Later.", "voice": "v", "continue": False,
             "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000}},
        ):  # fmt: skip
            file.write(json.dumps({"t": 9.0, "conn": 1, "dir": "send", "frame": json.dumps(obj)}) + "\n")
    replaced = build_dataset([capture, other], out)
    assert [s.outcome for s in replaced.steps] == [Outcome.REPLACED, Outcome.UNCHANGED]
    assert _rows(out, "SELECT name, contexts FROM captures ORDER BY name") == [
        ("c.fscap.jsonl", 2),
        ("other.fscap.jsonl", 1),
    ]
    for table in ("connections", "contexts", "segments"):
        counts = _rows(out, f"SELECT count(*), count(DISTINCT capture_id) FROM {table}")
        assert counts == [(_rows(out, f"SELECT sum({table}) FROM captures")[0][0], 2)], table
    rebuilt = build_dataset([capture, other], out, rebuild=True)
    assert [s.outcome for s in rebuilt.steps] == [Outcome.REPLACED, Outcome.REPLACED]
    assert _rows(out, "SELECT count(*) FROM segments") == [(3 + 2,)]


def test_worker_processes_write_the_same_rows_in_the_same_order(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for n in range(4):
        write_call(
            folder / f"c{n}.fscap.jsonl", DAY1 + timedelta(hours=n), skip_flush_id=n == 2, cut_word=n == 1
        )
    (folder / "broken.jsonl").write_text("{}\n")
    one, two = build_dataset([folder], tmp_path / "one"), build_dataset([folder], tmp_path / "two", jobs=2)
    assert [(s.path, s.outcome) for s in two.steps] == [(s.path, s.outcome) for s in one.steps]
    for table in TABLES:
        left, right = (
            _rows(out, f"SELECT * EXCLUDE (day) FROM {table}") for out in (tmp_path / "one", tmp_path / "two")
        )
        if table == "captures":
            left, right = ([row[:-2] for row in rows] for rows in (left, right))  # built_at, builder
        assert left == right, table


def test_an_interrupted_build_is_cleaned_up_before_the_next_one(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    build_dataset([write_call(tmp_path / "a.fscap.jsonl")], out)
    # As a build killed midway leaves it: its lock file, a temporary file, and rows of a capture whose
    # captures row was never written (or already taken away).
    (out / "_building").touch()
    (segments,) = table_files(out, "segments")
    (segments.parent / ".part-x.parquet.tmp").write_bytes(b"half")
    orphan = pq.read_table(segments, partitioning=None)
    orphan = orphan.set_column(0, "capture_id", pa.array(["0" * 16] * orphan.num_rows))
    pq.write_table(orphan, segments.parent / "part-orphan.parquet")
    pq.write_table(pa.concat_tables([pq.read_table(segments, partitioning=None), orphan]), segments)

    result = build_dataset([write_call(tmp_path / "b.fscap.jsonl", DAY2)], out)
    assert result.recovered
    assert not (out / "_building").exists()
    assert not (segments.parent / ".part-x.parquet.tmp").exists()
    assert not (segments.parent / "part-orphan.parquet").exists()
    assert _rows(
        out, "SELECT count(*) FROM segments WHERE capture_id NOT IN (SELECT capture_id FROM captures)"
    ) == [(0,)]
    assert _rows(out, "SELECT count(*) FROM segments") == [(4,)]


def test_a_second_build_at_once_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    capture = write_call(tmp_path / "a.fscap.jsonl")
    with DatasetWriter(out), pytest.raises(DatasetError, match="another build is writing"):
        build_dataset([capture], out)


def test_a_dataset_of_an_older_version_is_read_but_not_added_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ds"
    build_dataset([write_call(tmp_path / "a.fscap.jsonl")], out)
    # As version 1 wrote it: no context names, and the marker says so.
    for table, column in (("contexts", "name"), ("segments", "context_name")):
        for file in table_files(out, table):
            old = pq.read_table(file, partitioning=None)
            pq.write_table(old.drop_columns([column]), file)
    (out / "_flushscope_dataset.json").write_text('{"format": "flushscope-dataset", "version": 1}\n')
    before = _files(out)
    assert _rows(out, "SELECT count(*) FROM segments") == [(2,)]
    assert cli.main(
        ["dataset", "build", str(write_call(tmp_path / "b.fscap.jsonl", DAY2)), "--out", str(out)]
    ) == (EXIT_USAGE)
    err = capsys.readouterr().err
    assert "built by an older flushscope (dataset version 1)" in err and "another --out" in err
    assert _files(out) == before


def test_a_folder_that_is_not_a_dataset_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    capture = write_call(tmp_path / "a.fscap.jsonl")
    assert cli.main(["dataset", "build", str(capture), "--out", str(mine)]) == EXIT_USAGE
    assert (
        capsys.readouterr().err
        == f"flushscope: {mine} exists and is not a flushscope dataset: choose another --out\n"
    )
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert cli.main(["dataset", "summary", str(mine)]) == EXIT_USAGE
    assert "is not a flushscope dataset" in capsys.readouterr().err


def test_parts_are_left_alone_and_each_unreadable_file_is_named_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    good = write_call(folder / "good.fscap.jsonl")
    shutil.copy(good, folder / "live.jsonl.part")
    (folder / "bad\nname.jsonl").write_text('{"not": "a capture"}\n')
    out = tmp_path / "ds"
    assert cli.main(["dataset", "build", str(folder), "--out", str(out)]) == EXIT_FAILED
    captured = capsys.readouterr()
    (error,) = captured.err.splitlines()
    assert error.startswith(f"flushscope: skipped: {folder}/bad\\nname.jsonl, line 1: ")
    assert "Traceback" not in captured.err
    assert captured.out.splitlines()[-1] == (
        f"dataset {out}: 1 added, 0 replaced, 0 unchanged, 1 failed, 1 still being written (*.part)"
    )
    assert _rows(out, "SELECT name FROM captures") == [("good.fscap.jsonl",)]
    # Only unreadable input, or none at all: nothing usable.
    (tmp_path / "empty").mkdir()
    for given, last in (
        (folder / "bad\nname.jsonl", "no capture could be used"),
        (tmp_path / "missing", "no capture could be used"),
        (tmp_path / "empty", "no capture could be used (none found)"),
    ):
        assert cli.main(["dataset", "build", str(given), "--out", str(out), "--quiet"]) == EXIT_USAGE
        assert capsys.readouterr().err.splitlines()[-1] == f"flushscope: {last}"


def test_one_line_escapes_what_would_break_a_line() -> None:
    assert escaped("a\nb\rc\x1b[31md\u2028e é \udcff") == "a\\nb\\rc\\x1b[31md\\u2028e é \\udcff"


# --- questions ----------------------------------------------------------------------------------------


@pytest.fixture
def two_days(tmp_path: Path) -> Path:
    """A dataset of three calls: a clean one and a slow one that cuts a word on the first day, one with a
    skipped flush_id on the second, from two clients."""
    folder = tmp_path / "in"
    write_call(folder / "clean.fscap.jsonl", DAY1)
    write_call(folder / "slow.fscap.jsonl", DAY1 + timedelta(hours=1), client=None, slow=0.5, cut_word=True)
    write_call(folder / "skipped.fscap.jsonl", DAY2, skip_flush_id=True)
    out = tmp_path / "ds"
    build_dataset([folder], out)
    return out


def test_query_prints_a_table_csv_or_json_and_refuses_bad_sql(
    two_days: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SELECT name, segments, started FROM captures ORDER BY name"
    assert cli.main(["dataset", "query", str(two_days), sql]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert re.split(r"\s+", lines[0]) == ["name", "segments", "started"]
    assert lines[2].startswith("clean.fscap.jsonl  ") and lines[-1] == "(3 rows)"
    assert cli.main(["dataset", "query", str(two_days), sql, "--csv"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[:2] == [
        "name,segments,started",
        "clean.fscap.jsonl,2,2026-01-12 10:00:00+00:00",
    ]
    assert cli.main(["dataset", "query", str(two_days), sql, "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)[0] == {
        "name": "clean.fscap.jsonl",
        "segments": 2,
        "started": "2026-01-12T10:00:00+00:00",
    }
    assert cli.main(["dataset", "query", str(two_days), "SELECT nothing FROM captures"]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith("flushscope: query: Binder Error")


def test_calls_are_ranked_by_their_problems(two_days: Path) -> None:
    rows = calls(two_days)
    assert [(Path(r.capture_path).name, r.client, r.problems, r.segments) for r in rows] == [
        ("skipped.fscap.jsonl", "pipecat/1.0", 3, 3),
        ("slow.fscap.jsonl", None, 0, 2),
        ("clean.fscap.jsonl", "pipecat/1.0", 0, 2),
    ]
    assert rows[0].started == DAY2 + timedelta(seconds=0.01)
    for row in rows:
        sql = (
            f"SELECT quantile_cont(first_audio_ms, 0.95) FROM segments WHERE capture_id = '{row.capture_id}'"
        )
        assert row.first_audio_p95_ms == pytest.approx(_rows(two_days, sql)[0][0])
    assert [Path(r.capture_path).name for r in calls(two_days, since=DAY2)] == ["skipped.fscap.jsonl"]
    assert [Path(r.capture_path).name for r in calls(two_days, until=DAY1 + timedelta(minutes=30))] == [
        "clean.fscap.jsonl"
    ]


def test_summary_answers_as_the_segments_do_and_compares_two_periods(
    two_days: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = summary(two_days, split=datetime(2026, 1, 13, tzinfo=UTC))
    period = found.period
    assert (period.totals.captures, period.totals.calls, period.totals.segments) == (3, 3, 7)
    assert period.totals.calls_with_problems == 1
    assert [(k.kind, k.severity, k.found, k.calls) for k in period.anomalies] == [
        ("done_while_flush_pending", "error", 1, 1),
        ("flush_done_unrequested", "warning", 1, 1),
        ("flush_id_skipped", "error", 1, 1),
    ]
    assert period.anomalies[0].rate == pytest.approx(1 / 3)
    latencies = [ms for (ms,) in _rows(two_days, "SELECT first_audio_ms FROM segments") if ms is not None]
    assert period.first_audio.segments == len(latencies) == 5
    assert [period.first_audio.p50_ms, period.first_audio.p95_ms, period.first_audio.p99_ms] == pytest.approx(
        list(np.percentile(latencies, [50, 95, 99]))
    )
    assert {r.group: r.segments for r in period.by_client} == {("pipecat/1.0",): 3, (None,): 2}
    assert [Path(r.capture_path).name for r in period.worst][:1] == ["skipped.fscap.jsonl"]
    assert found.before is not None and found.after is not None
    assert (found.before.totals.calls, found.after.totals.calls) == (2, 1)
    assert found.before.anomalies == [] and found.after.anomalies[0].rate == 1.0

    assert cli.main(["dataset", "summary", str(two_days), "--split", "2026-01-13", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == found.to_json()
    assert cli.main(["dataset", "summary", str(two_days), "--split", "2026-01-13"]) == EXIT_OK
    page = capsys.readouterr().out
    assert "3 captures, 3 calls, 1 contexts" not in page and "3 captures, 3 calls, 3 contexts" in page
    assert re.search(r"anomaly flush_id_skipped +0\.0% +100\.0% +\+100\.0 pt", page)
    with pytest.raises(SystemExit) as exited:
        cli.main(["dataset", "summary", str(two_days), "--since", "next week"])
    assert exited.value.code == EXIT_USAGE
    assert "--since: 'next week' is not a date (2026-01-12)" in capsys.readouterr().err


def test_an_empty_dataset_has_an_empty_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{}\n")
    assert cli.main(["dataset", "build", str(broken), "--out", str(tmp_path / "ds"), "--quiet"]) == EXIT_USAGE
    found = summary(tmp_path / "ds")
    assert found.period.totals.calls == 0 and found.period.first_audio.p95_ms is None
    assert found.period.worst == [] and calls(tmp_path / "ds") == []
    capsys.readouterr()
    assert cli.main(["dataset", "summary", str(tmp_path / "ds")]) == EXIT_OK
    assert capsys.readouterr().out.startswith("0 captures, 0 calls, 0 contexts, 0 segments")


def test_every_column_is_documented() -> None:
    doc = (ROOT / "docs" / "DATASET.md").read_text()
    for table, schema in TABLES.items():
        section = doc.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
        documented = re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)
        assert documented == schema.names, table


@pytest.mark.parametrize("name", [name for name, _duck, _spark in documented_queries()])
def test_each_documented_duckdb_question_runs_and_agrees_with_the_summary(two_days: Path, name: str) -> None:
    (sql,) = [duck for found, duck, _spark in documented_queries() if found == name]
    rows = _rows(two_days, sql)
    period = summary(two_days).period
    if name == "first-audio-by-model-voice":
        assert rows == [(*r.group, r.segments, r.p50_ms, r.p95_ms, r.p99_ms) for r in period.by_model_voice]
    elif name == "anomaly-rates":
        assert sorted(rows) == sorted(
            (k.kind, k.severity, k.found, k.calls, k.rate) for k in period.anomalies
        )
    elif name == "calls-per-day":
        assert rows == [(DAY1.date(), 2, 0, 1), (DAY2.date(), 1, 1, 0)]
    elif name == "word-cuts":
        assert [(Path(path).name, word) for path, _conn, _ctx, _fid, word, _ms in rows] == [
            ("slow.fscap.jsonl", "friend")
        ]
    else:
        assert rows

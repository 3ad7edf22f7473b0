"""A dataset built from captures of the real emulator, faults included, answers as ``report --json`` does on
each capture: the same segments, anomalies, lints and boundaries."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rig_support import Rig

from flushscope import cli
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK
from flushscope.core.inputs.scenario import parse_scenario
from flushscope.core.model.session import Session
from flushscope.dataset.build import Outcome, build_dataset
from flushscope.dataset.duck import connect
from flushscope.dataset.summary import summary
from flushscope.emulator.config import Faults
from flushscope.net.runner import play_scenario

SCRIPT = """
set timestamps true
context a
send "Hello there, "
flush
send how are you today?
flush
end
context b
send The weather is fine.
flush
send Rain comes later.
flush
end
"""


def _flushes_answered(session: Session) -> bool:
    """Every context ended and every flush it sent answered (for a server that never sends ``done``)."""
    return bool(session.contexts) and all(
        ctx.end_t is not None and all(s.flush_t is None or s.flush_done_t is not None for s in ctx.segments)
        for ctx in session.contexts
    )


def _report(capture: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert cli.main(["report", str(capture), "--json"]) in (EXIT_OK, EXIT_FAILED)
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def _select(con: Any, sql: str, capture_id: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql, [capture_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _as_report(con: Any, capture_id: str) -> dict[str, Any]:
    """The dataset's rows of one capture, in the shape of ``report --json``."""
    contexts = _select(
        con,
        "SELECT context_number AS number, conn, context_id, name, state, error, flush_id_base, audio_seconds "
        "FROM contexts WHERE capture_id = ? ORDER BY context_number",
        capture_id,
    )
    segments = _select(
        con,
        "SELECT context_number, flush_id, transcripts, chunks, audio_seconds, first_audio_ms, flush_done, "
        "flush_done_ms, state, unnumbered_chunks FROM segments WHERE capture_id = ? "
        "ORDER BY context_number, segment",
        capture_id,
    )
    for ctx in contexts:
        ctx["segments"] = [
            {k: v for k, v in s.items() if k != "context_number"}
            for s in segments
            if s["context_number"] == ctx["number"]
        ]
    anomalies = _select(
        con,
        "SELECT kind, severity, context_id, flush_id, message, frames, count FROM anomalies WHERE capture_id = ?",
        capture_id,
    )
    lints = _select(
        con,
        "SELECT lint AS id, severity, conn, context_id, context_number, flush_id, frames, message, advice "
        "FROM lints WHERE capture_id = ?",
        capture_id,
    )
    boundaries = _select(
        con, "SELECT * EXCLUDE (capture_id, conn, day) FROM boundaries WHERE capture_id = ?", capture_id
    )
    for b in boundaries:
        b["frames"] = [b.pop("from_frame"), b.pop("to_frame")]
        b["flags"] = [{"kind": k, "reason": r} for k, r in zip(b["flags"], b.pop("reasons"), strict=True)]
    return {"contexts": contexts, "anomalies": anomalies, "lints": lints, "boundaries": boundaries}


@pytest.mark.asyncio
async def test_the_dataset_of_emulator_captures_answers_as_the_report(
    rig_factory: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A clean run, one whose server skips flush ids and sends a chunk after flush_done, one that never sends
    # done, and one that stalls inside a segment (longer than the stall threshold of 1 s).
    rigs: list[Rig] = [
        await rig_factory(),
        await rig_factory(faults=Faults(late_chunk=True, skip_flush_id=True)),
        await rig_factory(faults=Faults(drop_done=True)),
    ]
    for rig in rigs[:2]:
        assert await rig.play(SCRIPT)
    drop = rigs[2]
    await play_scenario(parse_scenario(SCRIPT), drop.client)
    await drop.until(lambda: _flushes_answered(drop.session))
    stall = await rig_factory(faults=Faults(stall_ms=1100))
    assert await stall.play("context s\nsend One short sentence.\nflush\nend\n")
    rigs.append(stall)

    out = tmp_path / "dataset"
    result = build_dataset([rig.capture for rig in rigs], out)
    assert [s.outcome for s in result.steps] == [Outcome.ADDED] * len(rigs)
    kinds: Counter[str] = Counter()
    with connect(out) as con:
        for rig in rigs:
            report = _report(rig.capture, capsys)
            (capture_id,) = (
                con.execute("SELECT capture_id FROM captures WHERE path = ?", [str(rig.capture)]).fetchone()
                or ()
            )
            assert _as_report(con, capture_id) == report, rig.capture.name
            kinds.update(a["kind"] for a in report["anomalies"])
    # The faults made their anomalies, and the summary counts them as the reports do. The capture without
    # done is still being written, well within the wait for it: it ends there, not a timeout.
    assert {"flush_id_skipped", "chunk_after_flush_done", "recording_ends", "stall"} <= set(kinds)
    found = summary(out)
    assert {k.kind: k.found for k in found.period.anomalies} == dict(kinds)
    assert found.period.totals.calls == len(rigs)

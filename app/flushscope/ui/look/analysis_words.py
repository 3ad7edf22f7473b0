"""The analysis in words, for tooltips and detail panes (no Qt): a flush boundary's figures, and a lint."""

from __future__ import annotations

from flushscope.core.analysis.boundaries import Boundary
from flushscope.core.analysis.lints import Lint


def flush_ids(b: Boundary) -> str:
    """``2 → 3``: the flush_ids either side of a boundary (``~n`` while the numbering is unknown)."""
    before = str(b.from_flush_id) if b.from_flush_id is not None else f"~{b.from_ordinal + 1}"
    after = str(b.to_flush_id) if b.to_flush_id is not None else f"~{b.to_ordinal + 1}"
    return f"{before} → {after}"


def level_step(b: Boundary) -> float:
    """The level step a listener hears (on the speech either side), or the step on the wire when a side
    is silent."""
    step = b.speech_level_step_db
    return b.level_step_db if step is None else step


def last_word(b: Boundary) -> str:
    """``inside`` or ``cut``, with the word; empty without word timestamps."""
    inside = b.last_word_inside
    if inside is None:
        return ""
    return f"{'inside' if inside else 'cut'} · {b.last_word}"


def boundary_words(b: Boundary) -> str:
    """Every figure of a boundary, one line each, with why it is an outlier if it is."""
    lines = [
        f"flush boundary {flush_ids(b)} of context #{b.context_number} {b.context_id}",
        f"at {b.at_s:.3f} s into the context's audio",
        f"silence: {b.trailing_silence_ms:.0f} ms at the end of {_side(b, False)}, "
        f"{b.leading_silence_ms:.0f} ms at the start of {_side(b, True)} ({b.pause_ms:.0f} ms heard)",
        f"arrival gap: {b.arrival_gap_ms:.0f} ms from the last chunk before to the first after",
    ]
    speech = b.speech_level_step_db
    if speech is None:
        lines.append(f"level step: {b.level_step_db:+.1f} dB on the wire (one side is silent)")
    else:
        lines.append(f"level step: {speech:+.1f} dB in the voice, {b.level_step_db:+.1f} dB on the wire")
    overrun = b.word_overrun_ms
    if overrun is not None:
        where = "cut: it ends" if b.last_word_inside is False else "inside: it ends"
        lines.append(
            f"last word {b.last_word!r} {where} {abs(overrun):.0f} ms "
            f"{'after' if overrun > 0 else 'before'} the end of the audio"
        )
    else:
        lines.append("no word timestamps")
    if b.flags:
        lines.append("outlier:")
        lines.extend(f"  {flag.reason}" for flag in b.flags)
    return "\n".join(lines)


def _side(b: Boundary, after: bool) -> str:
    fid = b.to_flush_id if after else b.from_flush_id
    ordinal = b.to_ordinal if after else b.from_ordinal
    return f"flush_id {fid}" if fid is not None else f"segment ~{ordinal + 1}"


def lint_words(lint: Lint) -> str:
    """A lint as the timeline and the table say it: its id, what happened, what to do."""
    return f"advice [{lint.id.value}]: {lint.message}\nWhat to do: {lint.advice}"

"""A dataset's summary as a page of text for a terminal, and a comparison of two periods side by side."""

from __future__ import annotations

from datetime import datetime

from flushscope.dataset.calls import CallRow
from flushscope.dataset.summary import KindRate, Latency, PeriodSummary, Summary, Totals

#: Room for a group's name (model and voice, client) before it is shortened.
_NAME = 44


def _short(text: str, width: int = _NAME) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _share(part: int, whole: int) -> str:
    return f"{part} ({100 * part / whole:.1f}%)" if whole else str(part)


def _group(group: tuple[str | None, ...]) -> str:
    return " / ".join("-" if value is None else value for value in group) or "all segments"


def _totals(totals: Totals) -> list[str]:
    hours = totals.audio_seconds / 3600
    return [
        f"{totals.captures} captures, {totals.calls} calls, {totals.contexts} contexts, {totals.segments} "
        f"segments, {hours:.2f} h of audio; started {_when(totals.first_started)} to "
        f"{_when(totals.last_started)} UTC",
        f"calls with problems (warning or error anomalies): {_share(totals.calls_with_problems, totals.calls)}"
        f"; with a cut word: {_share(totals.calls_with_word_cuts, totals.calls)}",
    ]


def _latencies(title: str, rows: list[Latency]) -> list[str]:
    lines = [f"{title:<{_NAME + 2}}  {'segments':>8}  {'p50':>6}  {'p95':>6}  {'p99':>6}"]
    lines.extend(
        f"  {_short(_group(r.group)):<{_NAME}}  {r.segments:>8}  {_ms(r.p50_ms):>6}  {_ms(r.p95_ms):>6}  "
        f"{_ms(r.p99_ms):>6}"
        for r in rows
    )
    return lines


def _kinds(title: str, rows: list[KindRate]) -> list[str]:
    if not rows:
        return [f"{title}: none"]
    lines = [f"{title:<{_NAME + 2}}  {'severity':>8}  {'found':>6}  {'calls':>6}  {'of calls':>8}"]
    lines.extend(
        f"  {_short(r.kind):<{_NAME}}  {r.severity or '':>8}  {r.found:>6}  {r.calls:>6}  {100 * r.rate:>7.1f}%"
        for r in rows
    )
    return lines


def _worst(rows: list[CallRow]) -> list[str]:
    if not rows:
        return ["worst calls: none"]
    lines = [
        f"worst calls{'':<5}  {'problems':>8}  {'cuts':>4}  {'lints':>5}  {'p95 ms':>6}  client, capture"
    ]
    for r in rows:
        lines.append(
            f"  {_when(r.started):<16}  {r.problems:>6}  {r.word_cuts:>4}  {r.lints:>5}  "
            f"{_ms(r.first_audio_p95_ms):>6}  {r.client or '-'}, {r.capture_path} (connection {r.conn})"
        )
    return lines


def format_period(period: PeriodSummary) -> list[str]:
    """One period's page: totals, time to first audio, findings by kind, worst calls."""
    lines = _totals(period.totals)
    lines += ["", *_latencies("time to first audio, ms", [period.first_audio, *period.by_model_voice])]
    lines += ["", *_latencies("by client", period.by_client)]
    lines += ["", *_kinds("anomalies", period.anomalies)]
    lines += ["", *_kinds("lints", period.lints)]
    lines += ["", *_kinds("boundary flags", period.boundary_flags)]
    lines += ["", *_worst(period.worst)]
    return lines


def _rate(totals: Totals, part: int) -> float:
    return 100 * part / totals.calls if totals.calls else 0.0


def _compare(before: PeriodSummary, after: PeriodSummary) -> list[str]:
    """The figures that say whether something changed, before and after, with the difference."""
    a, b = before.totals, after.totals
    lines = [f"{'':<{_NAME + 2}}  {'before':>9}  {'after':>9}  {'change':>9}"]

    def row(name: str, x: float | None, y: float | None, digits: int = 0, percent: bool = False) -> None:
        unit, change_unit = ("%", " pt") if percent else ("", "")
        shown = ["-" if v is None else f"{v:.{digits}f}{unit}" for v in (x, y)]
        change = "-" if x is None or y is None else f"{y - x:+.{digits}f}{change_unit}"
        lines.append(f"  {_short(name):<{_NAME}}  {shown[0]:>9}  {shown[1]:>9}  {change:>9}")

    row("calls", a.calls, b.calls)
    row("segments", a.segments, b.segments)
    row("calls with problems", _rate(a, a.calls_with_problems), _rate(b, b.calls_with_problems), 1, True)
    row("calls with a cut word", _rate(a, a.calls_with_word_cuts), _rate(b, b.calls_with_word_cuts), 1, True)
    for name in ("p50_ms", "p95_ms", "p99_ms"):
        row(
            f"first audio {name[:3]}, ms", getattr(before.first_audio, name), getattr(after.first_audio, name)
        )
    p95_before = {r.group: r.p95_ms for r in before.by_model_voice}
    for r in after.by_model_voice:
        row(f"first audio p95, ms: {_group(r.group)}", p95_before.get(r.group), r.p95_ms)
    for title, old, new in (
        ("anomaly", before.anomalies, after.anomalies),
        ("lint", before.lints, after.lints),
        ("flag", before.boundary_flags, after.boundary_flags),
    ):
        rates = {k.kind: 100 * k.rate for k in old}
        later = {k.kind: 100 * k.rate for k in new}
        for kind in sorted(rates.keys() | later.keys()):
            row(f"{title} {kind}", rates.get(kind, 0.0), later.get(kind, 0.0), 1, True)
    return lines


def format_summary(summary: Summary) -> str:
    """The whole page: the period, then (with a split) the two parts compared."""
    lines = format_period(summary.period)
    if summary.split is not None and summary.before is not None and summary.after is not None:
        lines += ["", f"before {summary.split.isoformat()} and from then on (rates: share of the calls):"]
        lines += _compare(summary.before, summary.after)
    return "\n".join(lines)

"""``flushscope compare``: one text, cut by two or more flush strategies, each spoken as its own context."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.errors import UsageError, fail
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK
from flushscope.cli.output import print_json, print_text
from flushscope.cli.subcommand import Subcommand
from flushscope.cli.target_args import add_target_arguments, target_from

if TYPE_CHECKING:
    from flushscope.core.analysis.compare import CompareResult, StrategyResult
    from flushscope.core.inputs.generation_settings import GenerationSettings
    from flushscope.core.inputs.strategies import StrategyPlan
    from flushscope.emulator.config import EmulatorConfig
    from flushscope.net.client import Target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The text, the strategies, the target, the settings, and the emulator's switches."""
    parser.add_argument("text", help="the text to speak")
    parser.add_argument(
        "--strategy",
        action="append",
        default=[],
        metavar="STRATEGY",
        help="sentence, punctuation, words=N, one, or the text with | where it is cut (two or more)",
    )
    add_target_arguments(parser)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a generation setting, as a scenario's set line takes it (model, voice, encoding, ...)",
    )
    parser.add_argument("--capture", help="also record the run to this capture file")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each context")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    add_emulator_switches(parser)


def _settings(pairs: list[str]) -> GenerationSettings:
    from flushscope.core.inputs.generation_settings import GenerationSettings, SettingsError

    settings = GenerationSettings()
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--set {pair!r}: write KEY=VALUE")
        try:
            settings = settings.apply(key.strip(), value)
        except SettingsError as exc:
            raise UsageError(f"--set {pair!r}: {exc}") from None
    return settings


def _plans(text: str, specs: list[str]) -> list[StrategyPlan]:
    from flushscope.core.inputs.strategies import StrategyError, plan_strategies

    if len(specs) < 2:
        raise UsageError("give two or more --strategy to compare (sentence, punctuation, words=N, one, A|B)")
    try:
        return plan_strategies(text, specs)
    except StrategyError as exc:
        raise UsageError(str(exc)) from None


async def compare_on_target(
    text: str,
    plans: list[StrategyPlan],
    settings: GenerationSettings,
    target: Target | None,
    emulator: EmulatorConfig,
    *,
    capture: Path | None = None,
    timeout: float = 60.0,
) -> CompareResult:
    """Connect (to an in-process emulator when ``target`` is None), run the comparison, close everything."""
    from flushscope.core.analysis.compare import run_compare
    from flushscope.core.model.recorder import Recorder
    from flushscope.core.model.session import Session
    from flushscope.core.store.capture_writer import CaptureWriter
    from flushscope.emulator.server import EmulatorServer
    from flushscope.net.client import Client
    from flushscope.net.client import Target as TargetType

    server = None
    if target is None:
        server = await EmulatorServer(emulator).start()
        target = TargetType(server.url)
    session = Session()
    secrets = [target.api_key] if target.api_key else []
    writer = CaptureWriter(capture, target.display_url, secrets=secrets) if capture is not None else None
    recorder = Recorder(session, writer)
    client = Client(recorder, target)
    try:
        await client.connect()
        return await run_compare(client, session, text, plans, settings=settings, timeout=timeout)
    finally:
        await client.aclose()
        if server is not None:
            await server.close()
        recorder.close()


def compare_command(args: argparse.Namespace) -> int:
    """Run the strategies and print the table (or JSON): exit 0 when every context finished, 1 when one
    failed or timed out, 2 for unusable input or a failed connection."""
    from flushscope.net.client import ClientError

    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    plans = _plans(args.text, args.strategy)
    settings = _settings(args.set)
    config = emulator_config(args)
    target = target_from(args)
    capture = Path(args.capture) if args.capture else None
    try:
        result = asyncio.run(
            compare_on_target(
                args.text, plans, settings, target, config, capture=capture, timeout=args.timeout
            )
        )
    except ClientError as exc:
        return fail(str(exc))
    except FileExistsError:
        return fail(f"{capture} already exists; choose another --capture")
    if capture is not None:
        print(f"capture: {capture}", file=sys.stderr)
    if args.json:
        print_json(result.to_json())
    else:
        print_text(format_compare(result))
    return EXIT_OK if result.complete else EXIT_FAILED


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_compare(result: CompareResult) -> str:
    """A table of the strategies, then each one's segments, boundaries and lints."""
    width = max(8, *(len(s.name) for s in result.strategies)) if result.strategies else 8
    width = min(width, 40)
    lines = [
        f"text: {result.text!r}",
        "",
        f"{'strategy':<{width}}  {'state':<9}  {'segments':>8}  {'ttfa ms':>7}  {'total ms':>8}  "
        f"{'audio s':>7}  {'pauses ms':>9}  {'outliers':>8}  {'lints':>5}",
    ]
    for s in result.strategies:
        pauses = sum(b.pause_ms for b in s.boundaries)
        state = s.state if s.complete or s.state == "not run" else f"{s.state}!"
        lines.append(
            f"{_clip(s.name, width):<{width}}  {state:<9}  {len(s.segments):>8}  {_ms(s.ttfa_ms):>7}  "
            f"{_ms(s.total_ms):>8}  {s.audio_seconds:>7.2f}  {pauses:>9.0f}  "
            f"{sum(b.outlier for b in s.boundaries):>8}  {len(s.lints):>5}"
        )
    for s in result.strategies:
        lines.extend(_details(s))
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _details(s: StrategyResult) -> list[str]:
    from flushscope.core.analysis.report import format_boundaries

    lines = [
        "",
        f"{s.name}: context {s.context_id or '-'}, {s.state}" + ("" if s.complete else " (incomplete)"),
    ]
    if s.segments:
        lines.append(f"  {'flush_id':>8}  {'ttfa ms':>7}  {'audio s':>7}  {'chunks':>6}  text")
        for seg in s.segments:
            fid = "-" if seg.flush_id is None else str(seg.flush_id)
            lines.append(
                f"  {fid:>8}  {_ms(seg.ttfa_ms):>7}  {seg.audio_seconds:>7.2f}  {seg.chunks:>6}  {seg.text!r}"
            )
    lines.extend(format_boundaries(s.boundaries))
    lines.extend(f"  anomaly: {kind}" for kind in s.anomalies)
    lines.extend(f"  lint [{lint.id.value}]: {lint.message}" for lint in s.lints)
    return lines


COMMAND = Subcommand(
    name="compare",
    help="speak one text cut by several flush strategies and compare them",
    description="Each strategy cuts TEXT into pieces, each sent and flushed, as its own context on one "
    "connection, one context after another (so that they do not compete for the server). Prints each "
    "strategy's segments, time to first audio, total time and flush boundaries. Exit 0 when every context "
    "finished, 1 when one failed or timed out, 2 for unusable input or a failed connection.",
    add_arguments=add_arguments,
    run=compare_command,
)

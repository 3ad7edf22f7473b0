"""``flushscope play``: hear one segment (or a whole context) of a capture through the audio output."""

from __future__ import annotations

import argparse
import shlex

from flushscope.cli.errors import UsageError, fail, print_error
from flushscope.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from flushscope.cli.output import print_line
from flushscope.cli.subcommand import Subcommand
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.model.session_audio import SessionAudio


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The capture, what of it to play, where, and the device list."""
    parser.add_argument("capture", nargs="?", help="the capture file")
    parser.add_argument(
        "--context",
        help="the context: its context_id (or the start of it, if only one begins so), the name a script gave "
        "it, or its 1-based position in the capture",
    )
    parser.add_argument(
        "--flush-id", type=int, help="the segment's flush_id; without it the whole context plays"
    )
    parser.add_argument("--start", type=float, default=0.0, help="seconds into the audio to start from")
    parser.add_argument("--device", help="output device: its index, its name or a unique part of the name")
    parser.add_argument("--list-devices", action="store_true", help="print the output devices and exit")


def _described(ctx: Context) -> str:
    named = f" {ctx.title}" if ctx.name is not None else ""
    return f"{ctx.number}{named} ({ctx.context_id})"


def _context_list(contexts: list[Context]) -> str:
    return ", ".join(_described(ctx) for ctx in contexts) or "none"


def find_context(session: Session, key: str | None) -> Context:
    """The context ``key`` names: its context_id, else its name (a script's), else its 1-based position,
    else the start of its context_id (a prefix only one context_id has); the only one when ``key`` is None.

    Raises ``UsageError`` naming the capture's contexts when ``key`` names none, and the candidates when it
    names several."""
    contexts = session.contexts
    if key is None:
        if len(contexts) == 1:
            return contexts[0]
        raise UsageError(f"choose a context with --context; the capture has: {_context_list(contexts)}")
    for what, found in (
        ("context_id", [ctx for ctx in contexts if ctx.context_id == key]),
        ("name", [ctx for ctx in contexts if key in (ctx.name, ctx.title)]),
    ):
        if len(found) == 1:
            return found[0]
        if found:
            places = ", ".join(str(ctx.number) for ctx in found)
            raise UsageError(f"{what} {key!r} is used by several contexts; give its position: {places}")
    if key.isdigit() and 1 <= int(key) <= len(contexts):
        return contexts[int(key) - 1]
    started = [ctx for ctx in contexts if key and ctx.context_id.startswith(key)]
    if len(started) == 1:
        return started[0]
    if started:
        raise UsageError(f"{key!r} begins several context_ids; the candidates: {_context_list(started)}")
    raise UsageError(f"no context {key!r}; the capture has: {_context_list(contexts)}")


def find_segment(ctx: Context, flush_id: int) -> Segment:
    """The segment of ``ctx`` with ``flush_id``; ``UsageError`` naming the valid flush_ids if it has none."""
    playable = [s for s in ctx.segments if s.flush_id is not None and s.nbytes]
    segment = ctx.segment_for_flush_id(flush_id)
    if segment is not None and segment.nbytes:
        return segment
    if not playable:
        raise UsageError(
            f"context {ctx.title} has no segment with a flush_id and audio; omit --flush-id to play it whole"
        )
    valid = ", ".join(str(s.flush_id) for s in playable)
    problem = "has no audio for" if segment is not None else "has no"
    raise UsageError(f"context {ctx.title} {problem} flush_id {flush_id}; valid flush_ids: {valid}")


def find_device(choice: str | None) -> int | None:
    """The output device index for ``--device``: an index, an exact name or a unique part of a name.

    Raises ``UsageError`` naming the output devices when ``choice`` matches none or several."""
    if choice is None:
        return None
    from flushscope.audio.output import list_devices

    devices = list_devices()
    known = ", ".join(f"{d.index} ({d.name})" for d in devices) or "none"
    if choice.isdigit() and any(d.index == int(choice) for d in devices):
        return int(choice)
    exact = [d for d in devices if d.name == choice]
    partial = exact or [d for d in devices if choice.lower() in d.name.lower()]
    if len(partial) == 1:
        return partial[0].index
    if partial:
        raise UsageError(f"device {choice!r} matches several output devices: {known}")
    raise UsageError(f"no output device {choice!r}; output devices: {known}")


def list_devices_command() -> int:
    from flushscope.audio.output import availability, list_devices

    devices = list_devices()
    if not devices:
        return fail(availability()[1])
    for device in devices:
        print_line(f"{'*' if device.is_default else ' '} {device.index:3d}  {device.name}")
    return EXIT_OK


def play_command(args: argparse.Namespace) -> int:
    """Run ``flushscope play``; a context, flush_id or device it cannot find raises ``UsageError``."""
    if args.list_devices:
        return list_devices_command()
    if args.capture is None:
        return fail("play: give a capture file (or --list-devices)")
    from flushscope.audio.output import availability
    from flushscope.cli.sessions import load_session
    from flushscope.core.store.line_format import CaptureError

    try:
        session = load_session(args.capture)
    except CaptureError as exc:
        return fail(str(exc))
    ctx = find_context(session, args.context)
    segment = None if args.flush_id is None else find_segment(ctx, args.flush_id)
    device = find_device(args.device)
    if segment is None and not ctx.total_bytes:
        return fail(f"context {ctx.title} has no audio")
    usable, reason = availability(device)
    if not usable:
        # The audio is in the capture all the same: WAV files play anywhere.
        return fail(
            f"{reason}. To hear it elsewhere: flushscope export {shlex.quote(args.capture)} --out DIR"
        )
    return _play(session.audio, ctx, segment, device, args.start)


def _play(
    audio: SessionAudio, ctx: Context, segment: Segment | None, device: int | None, start: float
) -> int:
    from flushscope.audio.player import Player, PlayerState

    errors: list[str] = []
    player = Player(device=device)
    player.on_error = errors.append
    fmt = ctx.format
    try:
        # A capture is complete: segments it left open will never get more audio.
        if segment is not None:
            started = player.play_segment(audio, segment, start, live=False)
            what = f"segment {segment.label} of context {ctx.title}: {segment.audio_seconds:.2f} s"
        else:
            started = player.play_context(audio, ctx, start, live=False)
            what = f"context {ctx.title}: {ctx.audio_seconds:.2f} s"
        if started and fmt is not None:
            print_line(f"playing {what}, {fmt.encoding.value} at {fmt.sample_rate} Hz")
        while player.state is PlayerState.PLAYING:
            player.wait_finished(0.05)
            player.poll()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        player.close()
        player.poll()
    for text in errors:
        print_error(text)
    return EXIT_USAGE if errors else EXIT_OK


COMMAND = Subcommand(
    name="play",
    help="play one segment or a whole context of a capture",
    description="Play a capture's segment (--flush-id) or, without it, the context's segments in order, "
    "and exit when done. Exit 0 once played, 2 for a bad capture, context, flush_id or device.",
    add_arguments=add_arguments,
    run=play_command,
)

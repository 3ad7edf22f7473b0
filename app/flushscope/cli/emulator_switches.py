"""The emulator's switches, taken by ``serve``, ``run`` and the window: every command that starts an emulator."""

from __future__ import annotations

import argparse

from flushscope.cli.errors import UsageError
from flushscope.emulator.config import CancelReply, EmulatorConfig, Faults, Pacing


def add_emulator_switches(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's switches (behaviour and fault injection) to ``parser``."""
    group = parser.add_argument_group("emulator behaviour")
    group.add_argument(
        "--pace",
        choices=("real", "instant"),
        default="real",
        help="real: first audio after about 90 ms, chunks at 1.6x real time; instant: no waiting",
    )
    group.add_argument("--first-audio-ms", type=float, help="time to first audio of a segment")
    group.add_argument("--chunk-ms", type=float, help="audio per chunk, in milliseconds (default 93)")
    group.add_argument("--speedup", type=float, help="audio seconds per wall second (0 = no pacing)")
    group.add_argument(
        "--flush-id-base", type=int, choices=(0, 1), default=1, help="flush_id of the first segment"
    )
    group.add_argument(
        "--no-flush-id-before-flush",
        action="store_true",
        help="leave flush_id off frames generated before the context's first flush request",
    )
    group.add_argument(
        "--flush-done-per-input",
        action="store_true",
        help="with max_buffer_delay_ms 0, close a segment (flush_done) after every input",
    )
    group.add_argument(
        "--cancel-reply", choices=[c.value for c in CancelReply], default="none", help="what follows a cancel"
    )
    group.add_argument("--max-contexts", type=int, help="active contexts allowed (429 error frame beyond)")
    group.add_argument("--idle-timeout", type=float, default=300.0, help="close idle sockets after SECONDS")
    group.add_argument(
        "--context-expiry", type=float, help="end an open context SECONDS after its last audio (strict docs)"
    )
    faults = parser.add_argument_group(
        "fault injection",
        "Deliberate misbehaviour, to see how a client (or flushscope) copes. N counts the "
        "chunks sent on a connection.",
    )
    faults.add_argument(
        "--fault-close-after",
        type=_count,
        metavar="N",
        help="after N chunks, drop the socket (FIN, no close frame)",
    )
    faults.add_argument(
        "--fault-reset-after", type=_count, metavar="N", help="after N chunks, reset the connection (TCP RST)"
    )
    faults.add_argument("--fault-delay-ms", type=float, default=0.0, help="extra delay before each segment")
    faults.add_argument("--fault-stall-ms", type=float, default=0.0, help="a stall inside every segment")
    faults.add_argument(
        "--fault-malformed-every", type=_count, metavar="N", help="a non-JSON frame every N frames"
    )
    faults.add_argument("--fault-drop-done", action="store_true", help="never send done")
    faults.add_argument("--fault-429", action="store_true", help="refuse every connection with HTTP 429")
    faults.add_argument(
        "--fault-late-chunk", action="store_true", help="a chunk after its segment's flush_done"
    )
    faults.add_argument("--fault-skip-flush-id", action="store_true", help="number segments 1, 3, 5, ...")
    faults.add_argument(
        "--fault-duplicate-chunk", action="store_true", help="send the first chunk of every segment twice"
    )
    faults.add_argument(
        "--fault-late-segment",
        action="store_true",
        help="send each segment's last chunk after the next segment's flush_done (or just before done)",
    )
    faults.add_argument(
        "--fault-stray-context",
        action="store_true",
        help="after a context's first chunk, a copy for a context nobody opened (unopened-ID)",
    )
    faults.add_argument(
        "--fault-oversized-after",
        type=_count,
        metavar="N",
        help="after N chunks, once, a chunk frame over 1 MiB (websockets clients close with 1009)",
    )


def _count(text: str) -> int:
    """A count of at least 1, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def emulator_config(args: argparse.Namespace, host: str = "127.0.0.1", port: int = 0) -> EmulatorConfig:
    """The emulator's configuration from switches added by :func:`add_emulator_switches`.

    Raises ``UsageError`` for values the emulator cannot run with."""
    pacing = Pacing.instant() if args.pace == "instant" else Pacing()
    overrides = {
        "first_audio_ms": args.first_audio_ms,
        "chunk_ms": args.chunk_ms,
        "speedup": args.speedup,
    }
    pacing = Pacing(**{**pacing.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    if pacing.chunk_ms <= 0:
        raise UsageError("--chunk-ms must be positive")
    return EmulatorConfig(
        host=host,
        port=port,
        require_key=getattr(args, "require_key", None),
        pacing=pacing,
        flush_id_base=args.flush_id_base,
        no_flush_id_before_flush=args.no_flush_id_before_flush,
        flush_done_per_input=args.flush_done_per_input,
        cancel_reply=CancelReply(args.cancel_reply),
        max_contexts=args.max_contexts,
        idle_timeout_s=args.idle_timeout,
        context_expiry_s=args.context_expiry,
        faults=Faults(
            close_after_chunks=args.fault_close_after,
            extra_delay_ms=args.fault_delay_ms,
            stall_ms=args.fault_stall_ms,
            malformed_every=args.fault_malformed_every,
            drop_done=args.fault_drop_done,
            reject_429=args.fault_429,
            late_chunk=args.fault_late_chunk,
            skip_flush_id=args.fault_skip_flush_id,
            reset_after_chunks=args.fault_reset_after,
            duplicate_chunk=args.fault_duplicate_chunk,
            late_segment=args.fault_late_segment,
            stray_context=args.fault_stray_context,
            oversized_after_chunks=args.fault_oversized_after,
        ),
    )

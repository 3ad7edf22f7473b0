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
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--fault-close-after", type=int, metavar="N", help="drop the socket after N chunks")
    faults.add_argument("--fault-delay-ms", type=float, default=0.0, help="extra delay before each segment")
    faults.add_argument("--fault-stall-ms", type=float, default=0.0, help="a stall inside every segment")
    faults.add_argument(
        "--fault-malformed-every", type=int, metavar="N", help="a non-JSON frame every N frames"
    )
    faults.add_argument("--fault-drop-done", action="store_true", help="never send done")
    faults.add_argument("--fault-429", action="store_true", help="refuse every connection with HTTP 429")
    faults.add_argument(
        "--fault-late-chunk", action="store_true", help="a chunk after its segment's flush_done"
    )
    faults.add_argument("--fault-skip-flush-id", action="store_true", help="number segments 1, 3, 5, ...")


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
        ),
    )

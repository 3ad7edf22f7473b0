"""What the model says when something fails: who ended a connection, a refused upgrade, a frame the proxy
refused, a key withheld, slow first audio, a stall after a flush, a repeated chunk, a frame too big for
clients, and a recording that ends while waits are not over (cut short, not a timeout)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flushscope import cli
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from flushscope.core.formats.recordings import open_recording
from flushscope.core.frames import Direction, meta_text
from flushscope.core.model.anomalies import AnomalyKind, Severity
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.session import Session
from flushscope.core.store.capture_writer import CaptureWriter
from session_wire import Wire

# --- who ended the connection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("close", "kind", "severity", "words"),
    [
        ({"code": 1000, "reason": "bye", "by": "app"}, AnomalyKind.APP_WENT_AWAY, Severity.WARNING,
         "the app went away: it closed the connection (code 1000 normal closure, bye) before context a was "
         "done, without waiting for its audio"),
        ({"code": 1006, "reason": "", "by": "app"}, AnomalyKind.APP_WENT_AWAY, Severity.WARNING,
         "the app went away: it dropped the connection without a close frame before context a was done, "
         "without waiting for its audio"),
        ({"code": 1001, "reason": "", "by": "client"}, AnomalyKind.APP_WENT_AWAY, Severity.WARNING,
         "the app went away: it closed the connection (code 1001 going away) before context a was done, "
         "without waiting for its audio"),
        ({"code": 1006, "reason": "", "by": "upstream"}, AnomalyKind.SERVER_WENT_AWAY, Severity.ERROR,
         "the server went away: it dropped the connection without a close frame before context a was done"),
        ({"code": 1011, "reason": "oops", "by": "server"}, AnomalyKind.SERVER_WENT_AWAY, Severity.ERROR,
         "the server went away: it closed the connection (code 1011 internal error, oops) before context a "
         "was done"),
        ({"code": 1000, "reason": "connection idle timeout", "by": "upstream"}, AnomalyKind.SERVER_WENT_AWAY,
         Severity.WARNING, "the server went away: it closed the connection (code 1000 normal closure, "
         "connection idle timeout) before context a was done"),
        ({"code": 1014, "reason": "upstream dropped"}, AnomalyKind.SERVER_WENT_AWAY, Severity.ERROR,
         "the server went away: it closed the connection (code 1014 bad gateway, upstream dropped) before "
         "context a was done"),
        ({"code": 1001, "reason": "proxy stopped", "by": "proxy"}, AnomalyKind.CONNECTION_LOST, Severity.WARNING,
         "the proxy closed the connection (code 1001 going away, proxy stopped) before context a was done"),
        ({"code": 1001, "reason": ""}, AnomalyKind.CONNECTION_LOST, Severity.WARNING,
         "the connection closed (code 1001, no reason) before context a was done"),
    ],
)  # fmt: skip
def test_a_close_before_done_says_who_went_away(
    close: dict[str, Any], kind: AnomalyKind, severity: Severity, words: str
) -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.add(Direction.META, meta_text("close", **close))
    (found,) = wire.session.anomalies
    assert (found.kind, found.severity, found.context_id, found.message) == (kind, severity, "a", words)


def test_a_client_that_gave_up_on_a_silent_server_says_the_server_went_away() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.add(Direction.META, meta_text("keepalive_timeout", silent_s=20.1, after_s=20.0))
    wire.add(Direction.META, meta_text("close", code=1006, reason="", by="client"))
    (found,) = wire.session.anomalies
    assert (found.kind, found.severity) == (AnomalyKind.SERVER_WENT_AWAY, Severity.ERROR)
    assert found.message == (
        "the server went away: it stopped answering, and the client gave the connection up (code 1006 no close "
        "frame) before context a was done"
    )


# --- connections that never opened, and what the proxy says of one ----------------------------------------


def connect(wire: Wire, **fields: Any) -> None:
    wire.add(Direction.META, meta_text("connect", url="ws://127.0.0.1:1/tts/websocket", **fields))


@pytest.mark.parametrize(
    ("client", "error", "kind", "words"),
    [
        # The proxy: the upstream's refusal, its status and body.
        ("cartesia-python/4.2.0", {"message": "upstream refused: HTTP 429 Too Many Requests (Too many WebSocket "
         "connections)", "status": 429}, AnomalyKind.CONNECTION_REFUSED,
         "the connection was refused: upstream refused: HTTP 429 Too Many Requests (Too many WebSocket "
         "connections). Likely cause: too many connections at once for the account (the limit is ten times "
         "its concurrency)"),
        ("cartesia-python/4.2.0", {"message": "Upstream unreachable: cannot reach ws://127.0.0.1:1/tts/websocket: "
         "Connect call failed", "status": 502}, AnomalyKind.CONNECTION_REFUSED,
         "the connection was refused with HTTP 502: Upstream unreachable: cannot reach "
         "ws://127.0.0.1:1/tts/websocket: Connect call failed. Likely cause: the proxy could not reach its "
         "upstream, or what answered there is not a TTS WebSocket"),
        # flushscope's own client: the status, and the words it says them in.
        (None, {"message": "HTTP 401: the API key is missing or wrong (Unauthorized: invalid API key)",
         "status": 401}, AnomalyKind.CONNECTION_REFUSED,
         "the connection was refused: HTTP 401: the API key is missing or wrong (Unauthorized: invalid API "
         "key)"),
        (None, {"message": "cannot reach ws://127.0.0.1:1/tts/websocket: connection refused (nothing listens "
         "there)"}, AnomalyKind.CONNECTION_REFUSED,
         "the connection could not be opened: cannot reach ws://127.0.0.1:1/tts/websocket: connection refused "
         "(nothing listens there)"),
        # The proxy, without a status: the app gave up first.
        ("cartesia-python/4.2.0", {"message": "the app left during its handshake"}, AnomalyKind.APP_WENT_AWAY,
         "the app went away before its connection opened: the app left during its handshake"),
    ],
)  # fmt: skip
def test_a_connection_that_never_opened_says_why(
    client: str | None, error: dict[str, Any], kind: AnomalyKind, words: str
) -> None:
    wire = Wire()
    connect(wire, **({} if client is None else {"client": client, "remote": "127.0.0.1:5000", "port": 5000}))
    wire.add(Direction.META, meta_text("error", **error))
    (found,) = wire.session.anomalies
    assert (found.kind, found.conn, found.context_id, found.frames, found.message) == (
        kind,
        1,
        None,
        [1],
        words,
    )
    assert found.severity is (Severity.ERROR if kind is AnomalyKind.CONNECTION_REFUSED else Severity.WARNING)
    # Nothing opened: the recording does not end "with the connection still open".
    wire.session.finish()
    assert len(wire.session.anomalies) == 1


def test_an_error_after_the_connection_opened_is_no_refusal() -> None:
    wire = Wire()
    connect(wire)
    wire.add(Direction.META, meta_text("open"))
    wire.add(Direction.META, meta_text("error", message="send failed: closed"))
    wire.close(1000)
    assert wire.session.anomalies == []


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ({"dir": "send", "from": "app", "bytes": 2097152, "before": 0, "limit": 1048576, "code": 1009},
         "the app sent a frame of 2,097,152 bytes, over the proxy's limit of 1,048,576 bytes: the proxy closed "
         "the app's connection with 1009, and the server's with 1001; the frame was neither forwarded nor "
         "recorded"),
        ({"dir": "recv", "from": "upstream", "bytes": None, "before": 4096, "limit": 4194304, "code": 1009},
         "the server sent a compressed frame that grew past the limit (after 4,096 bytes of the same message), "
         "over the proxy's limit of 4,194,304 bytes: the proxy closed the server's connection with 1009, and "
         "the app's with 1014; the frame was neither forwarded nor recorded"),
    ],
)  # fmt: skip
def test_a_frame_the_proxy_refused_names_the_side_and_size(event: dict[str, Any], words: str) -> None:
    wire = Wire()
    wire.add(Direction.META, meta_text("frame_too_big", **event))
    (found,) = wire.session.anomalies
    assert (found.kind, found.severity, found.message) == (AnomalyKind.FRAME_TOO_BIG, Severity.ERROR, words)


def test_a_withheld_key_is_information() -> None:
    wire = Wire()
    connect(wire, client="LiveKit", remote="10.0.0.7:41000", port=41000, key_withheld=True)
    connect(wire, client="LiveKit", remote="127.0.0.1:41001", port=41001, key_withheld=False)
    (found,) = wire.session.anomalies
    assert (found.kind, found.severity) == (AnomalyKind.KEY_WITHHELD, Severity.INFO)
    assert found.message.startswith(
        "the app connected from another machine (10.0.0.7:41000): the proxy withheld"
    )
    assert wire.session.counted_anomalies() == []


# --- timing -------------------------------------------------------------------------------------------


def test_slow_first_audio_is_measured_from_the_first_transcript_when_nothing_is_buffered() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.chunk("a", 1, dt=2.49)
    wire.send("b", "Hello. ")
    wire.chunk("b", 1, dt=1.99)
    (found,) = wire.session.anomalies
    assert (found.kind, found.severity, found.context_id, found.flush_id, found.frames) == (
        AnomalyKind.SLOW_FIRST_AUDIO, Severity.WARNING, "a", 1, [2]
    )  # fmt: skip
    assert (
        found.message
        == "the first audio of segment 1 of context a came 2,500 ms after its first transcript, over 2,000 ms"
    )


def test_slow_first_audio_is_measured_from_the_flush_when_the_service_buffers() -> None:
    wire = Wire(Session(Thresholds(slow_first_audio_s=0.5)))
    buffered = {"max_buffer_delay_ms": None}
    wire.send("a", "Hello", **buffered)
    wire.flush("a")  # 10 ms later: what the service waits for before the flush is the client's choice
    wire.chunk("a", 1, dt=0.6)
    # Audio the service's own buffering started, before any flush: not measured.
    wire.send("b", "Hello", **buffered)
    wire.chunk("b", 1, dt=3.0)
    (found,) = wire.session.anomalies
    assert (
        found.message == "the first audio of segment 1 of context a came 600 ms after its flush, over 500 ms"
    )


@pytest.mark.parametrize("delay", [None, 3000, 0])
def test_a_stall_after_a_flush_is_flagged_whatever_the_buffering_delay(delay: int | None) -> None:
    wire = Wire()
    wire.send("a", "Hello there, how are you? ", max_buffer_delay_ms=delay)
    wire.flush("a")
    wire.chunk("a", 1)
    wire.chunk("a", 1, dt=1.5)
    assert wire.kinds() == [AnomalyKind.STALL]


def test_before_a_flush_the_buffering_delay_asked_for_is_no_stall() -> None:
    wire = Wire()
    wire.send("a", "Hello there, ", max_buffer_delay_ms=None)
    wire.chunk("a", None)
    wire.chunk("a", None, dt=3.5)  # within 1 s + the 3000 ms the service may wait
    assert AnomalyKind.STALL not in wire.kinds()


# --- repeated and oversized chunks --------------------------------------------------------------------


def chunk_text(ctx: str, audio: bytes, step_time: float = 1.0) -> str:
    data = base64.b64encode(audio).decode()
    return (
        f'{{"type":"chunk","context_id":"{ctx}","status_code":206,"done":false,"data":"{data}",'
        f'"step_time":{step_time},"flush_id":1}}'
    )


SPEECH = np.random.default_rng(3).integers(-5000, 5000, 2400).astype("<i2").tobytes()
SILENCE = bytes(4800)


def repeats(path: Path) -> list[tuple[AnomalyKind, list[int]]]:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.flush("a")
    for text in (
        chunk_text("a", SPEECH),
        chunk_text("a", SPEECH),  # the same frame again
        chunk_text("a", SILENCE),
        chunk_text("a", SILENCE),  # silence repeats in any stream
        chunk_text("a", SPEECH, 1.0),
        chunk_text("a", SPEECH, 2.0),  # the same audio with another step_time: another frame
    ):
        wire.recv(text)
    writer = CaptureWriter(path, "ws://x/tts/websocket")
    for frame in wire.session.frames:
        writer.write(frame)
    writer.close()
    return [(a.kind, list(a.frames)) for a in wire.session.anomalies]


def test_a_chunk_repeated_byte_for_byte_is_flagged_live_and_loaded(tmp_path: Path) -> None:
    path = tmp_path / "repeat.fscap.jsonl"
    live = repeats(path)
    assert live == [(AnomalyKind.DUPLICATE_CHUNK, [3])]
    loaded = open_recording(path).session
    assert [(a.kind, list(a.frames), a.message) for a in loaded.anomalies] == [
        (AnomalyKind.DUPLICATE_CHUNK, [3],
         "a chunk of segment 1 of context a repeats the chunk before it byte for byte: clients play its audio twice"),
    ]  # fmt: skip


def test_a_frame_over_what_clients_take_is_flagged_live_and_loaded(tmp_path: Path) -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.recv(chunk_text("a", bytes(786432)))  # 1 MiB of base64 and the rest of the frame
    wire.recv(chunk_text("a", bytes(786000)))
    path = tmp_path / "big.fscap.jsonl"
    writer = CaptureWriter(path, "ws://x/tts/websocket")
    for frame in wire.session.frames:
        writer.write(frame)
    writer.close()
    for session in (wire.session, open_recording(path).session):
        (found,) = session.anomalies
        assert (found.kind, found.severity, found.frames) == (
            AnomalyKind.OVERSIZED_FRAME,
            Severity.WARNING,
            [1],
        )
        assert found.message.startswith("a frame of 1,048,679 bytes from the server, over the 1,048,576 that")


# --- where the recording ends -------------------------------------------------------------------------


def opened(wire: Wire) -> None:
    connect(wire)
    wire.add(Direction.META, meta_text("open"))


def test_a_recording_that_stops_while_waits_go_on_ends_there() -> None:
    wire = Wire(Session(Thresholds(flush_done_s=2.0, done_s=3.0)))
    opened(wire)
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.send("a", "Again. ")
    wire.flush("a")
    wire.end("a")
    wire.chunk("a", 1, dt=0.5)
    wire.session.finish()
    wire.session.finish()  # said once
    (ends,) = wire.session.anomalies
    assert (ends.kind, ends.severity, ends.context_id, ends.frames) == (
        AnomalyKind.RECORDING_ENDS, Severity.INFO, "a", [7]
    )  # fmt: skip
    assert ends.message == (
        "the recording ends here (0.57 s) while context a still waited: the flush_done of segments 1, 2 were "
        "awaited, 0.5 s after the last flush (2 s allowed); its done was awaited, 0.5 s after its end (3 s "
        "allowed): cut short, not a timeout"
    )


def test_a_wait_the_recording_went_on_past_is_a_timeout_and_the_end_says_only_that_it_ends() -> None:
    wire = Wire(Session(Thresholds(flush_done_s=2.0, slow_first_audio_s=9.0)))
    opened(wire)
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.send("b", "Other. ")
    wire.chunk("b", None, dt=2.5)  # the recording goes on past the wait
    wire.session.finish()
    assert [(a.kind, a.context_id) for a in wire.session.anomalies] == [
        (AnomalyKind.FLUSH_DONE_TIMEOUT, "a"),
        (AnomalyKind.MISSING_FLUSH_ID, "b"),
        (AnomalyKind.RECORDING_ENDS, "a"),
        (AnomalyKind.RECORDING_ENDS, "b"),
    ]
    assert (
        wire.session.anomalies[2].message == "the recording ends here (2.55 s) while context a was still open"
    )


def test_a_connection_that_closed_first_has_its_close_and_no_timeout() -> None:
    wire = Wire()
    opened(wire)
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.close(1006)
    wire.session.check_timeouts(1e9)  # a live timer, long after
    wire.session.finish()
    assert wire.kinds() == [AnomalyKind.SERVER_WENT_AWAY]


def test_an_open_connection_without_a_context_ends_there_and_a_rotated_one_does_not() -> None:
    wire = Wire()
    opened(wire)
    wire.conn = 2
    opened(wire)
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.add(Direction.META, meta_text("rotated", next="x-part2.jsonl"))
    wire.session.finish()
    (ends,) = wire.session.anomalies
    assert (ends.kind, ends.conn, ends.context_id, ends.frames) == (AnomalyKind.RECORDING_ENDS, 1, None, [1])
    assert ends.message == "the recording ends here (0.07 s) with connection 1 still open"


def test_frames_without_meta_events_are_a_connection_too() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.session.finish()
    assert wire.kinds() == [AnomalyKind.RECORDING_ENDS]


# --- what report does with it -------------------------------------------------------------------------


def capture(path: Path, frames: list[tuple[Direction, str]]) -> Path:
    writer = CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket")
    wire = Wire()
    for direction, text in frames:
        writer.write(wire.add(direction, text))
    writer.close()
    return path


def report(path: Path, capsys: pytest.CaptureFixture[str], *switches: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["report", str(path), *switches])
    out, err = capsys.readouterr()
    return code, out + err


def test_report_exits_0_for_information_and_2_without_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = capture(tmp_path / "empty.fscap.jsonl", [])
    assert report(empty, capsys) == (
        EXIT_USAGE,
        f"flushscope: no usable frames in {empty}: it holds none\n",
    )
    quiet = capture(
        tmp_path / "quiet.fscap.jsonl",
        [(Direction.META, meta_text("connect", url="ws://h/tts/websocket", client="app", remote="10.0.0.7:1",
          key_withheld=True)), (Direction.META, meta_text("open")),
         (Direction.META, meta_text("close", code=1000, reason="", by="app"))],
    )  # fmt: skip
    code, out = report(quiet, capsys)
    assert code == EXIT_OK
    assert (
        "[info] key_withheld connection 1 frame 0: the app connected from another machine (10.0.0.7:1)" in out
    )
    cut = capture(
        tmp_path / "cut.fscap.jsonl",
        [(Direction.META, meta_text("connect", url="ws://h/tts/websocket")), (Direction.META, meta_text("open")),
         (Direction.SEND, json.dumps({"context_id": "a", "transcript": "Hi. ", "continue": True, "flush": True,
          "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000}}))],
    )  # fmt: skip
    code, out = report(cut, capsys)
    assert code == EXIT_OK and "[info] recording_ends context a frame 2: the recording ends here" in out
    refused = capture(
        tmp_path / "refused.fscap.jsonl",
        [(Direction.META, meta_text("connect", url="ws://h/tts/websocket")),
         (Direction.META, meta_text("error", message="HTTP 429: too many connections", status=429))],
    )  # fmt: skip
    code, out = report(refused, capsys)
    assert (
        code == EXIT_FAILED and "[error] connection_refused connection 1 frame 1: the connection was" in out
    )


def test_report_thresholds_come_from_its_switches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = {"context_id": "a", "transcript": "Hi. ", "continue": True, "max_buffer_delay_ms": 0,
               "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000}}  # fmt: skip
    slow = capture(
        tmp_path / "slow.fscap.jsonl",
        [(Direction.SEND, json.dumps(request)), (Direction.RECV, chunk_text("a", SPEECH)),
         (Direction.META, meta_text("close", code=1000, reason="", by="app"))],
    )  # fmt: skip
    assert report(slow, capsys)[0] == EXIT_FAILED  # the app went away before done
    code, out = report(slow, capsys, "--slow-first-audio", "5")
    assert code == EXIT_FAILED and "slow_first_audio" in out and "over 5 ms" in out
    assert report(slow, capsys, "--done-timeout", "0")[0] == EXIT_USAGE

"""Hand-made hostile files through the real command line, in processes of their own: each ends with its exit
code and, when refused, one line on stderr; never a traceback; and no control character of the file reaches
the terminal raw (it is shown escaped)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE

HEADER = {
    "format": "flushscope-capture",
    "version": 1,
    "app": "x",
    "started": "2026-01-12T10:20:30.123456Z",
    "target": "wss://h/tts/websocket",
}
OSC_TITLE = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J"
BIDI = "\u202e"
# What must never reach a terminal raw: C0 but the line break, DEL, C1, bidirectional controls.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
T0 = 1768213230.0


def request(context_id: str, transcript: str, *, more: bool = True) -> str:
    return json.dumps(
        {
            "context_id": context_id,
            "model_id": "sonic-3",
            "voice": {"mode": "id", "id": "v"},
            "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
            "transcript": transcript,
            "continue": more,
        }
    )


def capture(*lines: object, header: object = HEADER) -> bytes:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in (header, *lines))
    return (text + "\n").encode("utf-8", "surrogatepass")


def frame(text: str, t: object = 0.5, conn: object = 0, direction: str = "send") -> dict[str, object]:
    return {"t": t, "conn": conn, "dir": direction, "frame": text}


def har(*entries: object) -> bytes:
    return json.dumps({"log": {"version": "1.2", "entries": list(entries)}}).encode()


def tts_entry(transcript: str, url: str = "wss://h/tts/websocket?api_key=k") -> dict[str, object]:
    return {
        "startedDateTime": "2026-01-12T10:20:30Z",
        "request": {"url": url, "headers": []},
        "response": {"status": 101},
        "_webSocketMessages": [
            {"type": "send", "time": T0 + 0.1, "opcode": 1, "data": request("ctx" + BIDI, transcript)}
        ],
    }


def flushscope(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``flushscope ARGS`` in its own process, its output as bytes (a raw byte must be seen as it is)."""
    return subprocess.run(
        [sys.executable, "-m", "flushscope", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def shown(done: subprocess.CompletedProcess[bytes]) -> tuple[str, str]:
    """stdout and stderr, checked: UTF-8, no traceback, no raw control character."""
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    for stream in (out, err):
        assert "Traceback" not in stream
        assert RAW_CONTROL.search(stream) is None, stream
    return out, err


def refused(done: subprocess.CompletedProcess[bytes], words: str) -> None:
    out, err = shown(done)
    assert done.returncode == EXIT_USAGE, err
    assert err.count("\n") == 1, err
    assert err.startswith("flushscope: ")
    assert words in err
    assert out == ""


ESCAPES = capture(frame(request("a\u202e", OSC_TITLE + CLEAR + "hi")))


def test_report_shows_a_transcripts_terminal_escapes_escaped(tmp_path: Path) -> None:
    (tmp_path / "esc.jsonl").write_bytes(ESCAPES)
    done = flushscope("report", "esc.jsonl", cwd=tmp_path)
    out, _ = shown(done)
    assert done.returncode in (EXIT_OK, EXIT_FAILED)
    assert "\\x1b]0;owned\\x07\\x1b[2Jhi" in out
    assert "a\\u202e" in out


def test_report_json_stays_json_and_carries_the_same_text(tmp_path: Path) -> None:
    (tmp_path / "esc.jsonl").write_bytes(ESCAPES)
    done = flushscope("report", "--json", "esc.jsonl", cwd=tmp_path)
    out, _ = shown(done)
    report = json.loads(out)
    assert report["contexts"][0]["context_id"] == "a\u202e"
    assert report["contexts"][0]["segments"][0]["transcripts"] == [OSC_TITLE + CLEAR + "hi"]


def test_a_har_cannot_retitle_or_clear_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "esc.har").write_bytes(har(tts_entry(OSC_TITLE + CLEAR + "hello")))
    done = flushscope("report", "esc.har", cwd=tmp_path)
    out, _ = shown(done)
    assert "\\x1b]0;owned\\x07" in out


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("conn.jsonl", capture(frame(request("a", "x"), conn=10**26)), "no usable frames in conn.jsonl"),
        ("t.jsonl", capture(frame(request("a", "x"), t=1e308)), "no usable frames in t.jsonl"),
        (
            "garbage.jsonl",
            capture("garbage", "{more garbage", "\x1b[2J"),
            "no usable frames in garbage.jsonl",
        ),
        ("header-only.jsonl", capture(), "no usable frames in header-only.jsonl"),
        ("cut.jsonl", b'{"format": "flushscope-capture", "vers', "the capture is cut off"),
        ("empty.jsonl", b"", "the file is empty"),
        ("noise.bin", bytes(range(256)) * 4, "neither a flushscope capture"),
        ("no-tts.har", har({"request": {"url": "https://h/app.js"}}), "no usable frames in no-tts.har"),
        (
            "other-path.har",
            har(tts_entry("hi", url="wss://h/other/socket")),
            "no usable frames in other-path.har",
        ),
        ("array.har", b'{"log": []}', 'no "log" object'),
        ("deep.har", b'{"log": {"entries": [' + b"[" * 100_000, "not JSON"),
        (
            "control\x1b[2J.jsonl",
            b"\x1b]0;owned\x07\n",
            "control\\x1b[2J.jsonl: neither a flushscope capture",
        ),
    ],
)
@pytest.mark.parametrize("command", ["report", "convert"])
def test_an_unusable_file_is_refused_in_one_line(
    tmp_path: Path, name: str, content: bytes, words: str, command: str
) -> None:
    (tmp_path / name).write_bytes(content)
    args = [name, "out.har"] if command == "convert" else [name]
    done = flushscope(command, *args, cwd=tmp_path)
    refused(done, words)
    assert not (tmp_path / "out.har").exists()
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_lone_surrogate_survives_report_and_both_conversions(tmp_path: Path) -> None:
    # The character itself in the frame's text (not the escape \\ud800, which is plain ASCII).
    text = json.dumps({"context_id": "a", "transcript": "x\ud800y", "continue": True}, ensure_ascii=False)
    (tmp_path / "s.jsonl").write_bytes(capture(frame(text)))
    done = flushscope("report", "s.jsonl", cwd=tmp_path)
    out, _ = shown(done)
    assert "x\\ud800y" in out
    for args in (("s.jsonl", "s.har"), ("s.har", "back.jsonl"), ("back.jsonl", "again.har")):
        done = flushscope("convert", *args, cwd=tmp_path)
        shown(done)
        assert done.returncode == EXIT_OK
    again = json.loads((tmp_path / "again.har").read_text(encoding="utf-8"))
    (message,) = again["log"]["entries"][0]["_webSocketMessages"]
    # No WebSocket can carry half a character: HAR holds the replacement character instead.
    assert json.loads(message["data"])["transcript"] == "x\ufffdy"


def test_a_line_over_the_limit_is_left_out_with_its_number_and_size(tmp_path: Path) -> None:
    long_line = json.dumps(frame("x" * (17 << 20), t=0.6))
    (tmp_path / "long.jsonl").write_bytes(capture(frame(request("a", "hi")), long_line))
    done = flushscope("report", "long.jsonl", cwd=tmp_path)
    _, err = shown(done)
    assert done.returncode in (EXIT_OK, EXIT_FAILED)
    size = len(long_line.encode())
    assert f"long.jsonl: line 3: {size} bytes, longer than any frame (the limit is 16 MiB)" in err


def test_a_scripts_control_characters_are_shown_escaped(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_bytes(b"send \x1b]0;owned\x07\nfrobnicate \x1b[2J\n")
    done = flushscope("run", "s.txt", "--capture", "c.jsonl", cwd=tmp_path)
    _, err = shown(done)
    assert done.returncode == EXIT_USAGE
    assert "\\x1b[2J" in err
    assert not (tmp_path / "c.jsonl").exists()


def test_run_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text('send "Hello."\nend\n')
    done = flushscope("run", "s.txt", "--capture", "missing/x.jsonl", cwd=tmp_path)
    refused(done, "cannot write the capture missing/x.jsonl")


def test_convert_refuses_an_existing_output_and_force_replaces_it_whole(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_bytes(capture(frame(request("a", "hi"))))
    (tmp_path / "out.har").write_text("old")
    refused(flushscope("convert", "c.jsonl", "out.har", cwd=tmp_path), "already exists")
    assert (tmp_path / "out.har").read_text() == "old"
    done = flushscope("convert", "c.jsonl", "out.har", "--force", cwd=tmp_path)
    shown(done)
    assert done.returncode == EXIT_OK
    assert json.loads((tmp_path / "out.har").read_text())["log"]["entries"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "out.har"]


def test_a_terminal_that_cannot_encode_the_text_gets_escapes(tmp_path: Path) -> None:
    (tmp_path / "u.jsonl").write_bytes(capture(frame(request("a", "Grüße 😀"))))
    done = subprocess.run(
        [sys.executable, "-m", "flushscope", "report", "u.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    out, _ = shown(done)
    assert "Gr\\xfc\\xdfe \\U0001f600" in out

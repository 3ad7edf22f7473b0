"""Who the proxy serves and with whose key: the owner's key stays with apps on this machine, listening beyond
the loopback is a decision (``--allow-remote``), and URLs that cannot work are refused before anything starts.

Tests may only use the loopback, so another machine is a peer address given to the proxy at the seam where
it reads one (``peer_address``); the real sockets all stay on 127.0.0.1. Binding 0.0.0.0 is fine, connecting
to it is only ever done through 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from cartesia import AsyncCartesia
from proxy_support import TIMEOUT, ScriptedUpstream, metas, proxied
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from command_line import run_flushscope
from flushscope.cli.exit_codes import EXIT_OK, EXIT_USAGE
from flushscope.core.inputs.generation_settings import DEFAULT_VOICE_ID
from flushscope.net.proxy_relay import ProxyState
from flushscope.net.proxy_upstream import Upstream
from flushscope.net.reach import is_loopback_host

OWNER = "sk_car_owner_key_0123456789"
THEIRS = "sk_car_visitor_key_5555"
ELSEWHERE = ("192.0.2.7", 50123)  # TEST-NET-1: never dialled, only reported as the peer


async def through(rig_url: str, headers: dict[str, str]) -> None:
    async with connect(f"{rig_url}/tts/websocket", additional_headers=headers) as ws:
        await ws.send("hello")
        assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "hello"


def key_headers(seen: Any) -> list[tuple[str, str]]:
    return [
        (n, v) for n, v in seen.request.headers.raw_items() if n.lower() in ("x-api-key", "authorization")
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("options", "app_headers", "upstream_gets", "withheld"),
    [
        # The explicit key would replace any key: the visitor's own goes instead.
        ({"api_key": OWNER}, {"X-API-Key": THEIRS}, [("X-API-Key", THEIRS)], True),
        # CARTESIA_API_KEY would stand in for a placeholder: the placeholder goes as it is.
        ({"fallback_api_key": OWNER}, {"X-API-Key": "x"}, [("X-API-Key", "x")], True),
        # ... and for no key at all: none goes.
        ({"fallback_api_key": OWNER}, {}, [], True),
        # A real key of the visitor's own would not have been replaced anyway: nothing was withheld.
        (
            {"fallback_api_key": OWNER},
            {"Authorization": f"Bearer {THEIRS}"},
            [("Authorization", f"Bearer {THEIRS}")],
            False,
        ),
    ],
    ids=["api-key", "fallback-placeholder", "fallback-none", "fallback-real-key"],
)
async def test_a_peer_from_another_machine_never_gets_the_owners_key(
    tmp_path: Path,
    options: dict[str, Any],
    app_headers: dict[str, str],
    upstream_gets: list[tuple[str, str]],
    withheld: bool,
) -> None:
    async with (
        ScriptedUpstream() as upstream,
        proxied(upstream.url, tmp_path / "c.fscap.jsonl", peer_address=lambda _: ELSEWHERE, **options) as rig,
    ):
        await through(rig.url, app_headers)
        seen = await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    assert key_headers(seen) == upstream_gets
    connect_meta = metas(rig.loaded(), 1)[0]
    assert connect_meta["remote"] == "192.0.2.7:50123" and connect_meta["port"] == 50123
    assert (connect_meta["key_replaced"], connect_meta["key_withheld"]) == (False, withheld)
    assert OWNER not in rig.capture.read_text()


@pytest.mark.asyncio
async def test_share_key_gives_the_owners_key_to_other_machines_too(tmp_path: Path) -> None:
    async with (
        ScriptedUpstream() as upstream,
        proxied(
            upstream.url,
            tmp_path / "c.fscap.jsonl",
            api_key=OWNER,
            share_key=True,
            peer_address=lambda _: ELSEWHERE,
        ) as rig,
    ):
        await through(rig.url, {"X-API-Key": THEIRS})
        seen = await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    assert key_headers(seen) == [("X-API-Key", OWNER)]
    connect_meta = metas(rig.loaded(), 1)[0]
    assert (connect_meta["key_replaced"], connect_meta["key_withheld"]) == (True, False)


@pytest.mark.asyncio
async def test_the_peer_address_is_read_from_the_socket_by_default(tmp_path: Path) -> None:
    async with (
        ScriptedUpstream() as upstream,
        proxied(upstream.url, tmp_path / "c.fscap.jsonl", api_key=OWNER) as rig,
    ):
        await through(rig.url, {"X-API-Key": THEIRS})
        seen = await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    assert key_headers(seen) == [("X-API-Key", OWNER)]
    connect_meta = metas(rig.loaded(), 1)[0]
    assert connect_meta["remote"] == f"127.0.0.1:{connect_meta['port']}"
    assert (connect_meta["key_replaced"], connect_meta["key_withheld"]) == (True, False)


@pytest.mark.asyncio
async def test_an_upstream_that_cannot_be_dialled_is_a_502_in_words(tmp_path: Path) -> None:
    # Made by hand, past the check the command line does: the socket layer refuses the port.
    upstream = Upstream("ws://127.0.0.1:99999/tts/websocket", "out of range")
    async with proxied(upstream, tmp_path / "c.fscap.jsonl") as rig:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(f"{rig.url}/tts/websocket"):
                pass
        info = await rig.until(1, ProxyState.REFUSED)
    response = caught.value.response
    assert response.status_code == 502
    assert response.body is not None and response.body.decode().startswith("Bad upstream: cannot dial ws://")
    assert info.status == 502 and info.error is not None and "out of range" in info.error


# --- the command line -------------------------------------------------------------------------------


def one_line_error(done: Any) -> str:
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("flushscope: ") and "Traceback" not in done.stderr
    return str(lines[0])


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["proxy", "--listen", "0.0.0.0:0"], "--listen 0.0.0.0:0 can be reached from other machines"),
        (["proxy", "--listen", "[::]:0"], "--listen [::]:0 can be reached from other machines"),
        (["proxy", "--listen", "0.0.0.0:0", "--share-key"], "can be reached from other machines"),
        (["proxy", "--share-key"], "--share-key applies only with --allow-remote"),
        (["serve", "--host", "0.0.0.0"], "--host 0.0.0.0 can be reached from other machines"),
        (["serve", "--host", "my-laptop.example"], "can be reached from other machines"),
    ],
)
def test_listening_beyond_the_loopback_without_allow_remote_is_refused(
    tmp_path: Path, argv: list[str], words: str
) -> None:
    done = run_flushscope(*argv, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE
    line = one_line_error(done)
    assert words in line
    if "--share-key applies" not in words:
        assert "anyone who can reach this port can use it" in line and "add --allow-remote" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (
            ["proxy", "--upstream", "ws://[::1"],
            "--upstream: not a usable URL: ws://[::1 (an IPv6 address goes in",
        ),
        (["proxy", "--upstream", "ws://127.0.0.1:99999"], "the port must be a number from 1 to 65535"),
        (
            ["proxy", "--upstream", "gopher://example.com"],
            "--upstream: not a WebSocket URL: gopher://example.com",
        ),
        (["proxy", "--upstream", ""], "--upstream: not a WebSocket URL: it is empty"),
        (["proxy", "--upstream", "ws://[::1/tts/websocket?api_key=sk_leak_1"], "api_key=REDACTED"),
        (["run", "{script}", "--url", ""], "--url: not a WebSocket URL: it is empty"),
        (["run", "{script}", "--url", "ws://[::1"], "--url: not a usable URL"),
        (["run", "{script}", "--url", "wss://api.cartesia.ai:70000"], "the port must be a number"),
        (
            ["compare", "Hi.", "--strategy", "one", "--strategy", "sentence", "--url", ""],
            "--url: not a WebSocket",
        ),
        (["serve", "--port", "99999"], "a port is from 0 to 65535, not 99999"),
    ],
)
def test_a_url_or_port_that_cannot_work_is_one_line_and_exit_2(
    tmp_path: Path, argv: list[str], words: str
) -> None:
    script = tmp_path / "s.txt"
    script.write_text("context a\nsend Hello.\nend\n")
    done = run_flushscope(*(a.format(script=script) for a in argv), cwd=tmp_path)
    assert done.returncode == EXIT_USAGE, done.stderr
    if argv[0] == "serve":
        # argparse's own: usage, then the error.
        assert words in done.stderr and "Traceback" not in done.stderr
    else:
        assert words in one_line_error(done)
    assert "sk_leak_1" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.txt"]


async def _started(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "flushscope", *argv,
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _stopped(proc: asyncio.subprocess.Process) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    return out.decode(), err.decode()


async def _url_lines(proc: asyncio.subprocess.Process) -> list[str]:
    """The first stdout line, and the second when the first says there is one for other machines."""
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().strip()
    lines = [first]
    if not is_loopback_host(socket.gethostname()):
        lines.append((await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().strip())
    return lines


async def speak_through(url: str) -> list[str]:
    async with (
        AsyncCartesia(api_key="x", websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        ctx = conn.context(
            context_id="remote",
            model_id="sonic-3",
            voice={"mode": "id", "id": DEFAULT_VOICE_ID},
            output_format={"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
            timeout=TIMEOUT,
        )
        await ctx.push("Hello from this machine.", continue_=False)
        return [event.type async for event in ctx.receive()]


@pytest.mark.asyncio
async def test_allow_remote_proxy_warns_prints_usable_urls_and_keeps_the_key_local(tmp_path: Path) -> None:
    import os

    capture = tmp_path / "remote.fscap.jsonl"
    env = {**os.environ, "CARTESIA_API_KEY": OWNER}
    proc = await _started(
        "proxy", "--listen", "0.0.0.0:0", "--allow-remote", "--upstream", "embedded", "--pace", "instant",
        "--capture", str(capture), cwd=tmp_path, env=env,
    )  # fmt: skip
    try:
        urls = await _url_lines(proc)
        port = int(urls[0].rpartition(":")[2])
        assert urls[0] == f"ws://127.0.0.1:{port}"
        if len(urls) > 1:
            assert urls[1] == f"ws://{socket.gethostname()}:{port}"
        kinds = await asyncio.wait_for(speak_through(urls[0]), TIMEOUT)
        out, err = await _stopped(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert proc.returncode == EXIT_OK, err
    assert kinds[-1] == "done"
    assert out == "" and "0.0.0.0:0" not in " ".join(urls)
    warning = next(line for line in err.splitlines() if line.startswith("flushscope: warning: "))
    assert f"listening on 0.0.0.0:{port}, reachable from other machines" in warning
    assert "anyone who can reach this port can use it" in warning
    assert "your key is used only for connections from this machine" in warning
    assert "1 connections recorded, 0 refused" in err
    assert OWNER not in err + capture.read_text()


@pytest.mark.asyncio
async def test_allow_remote_serve_warns_and_prints_usable_urls(tmp_path: Path) -> None:
    proc = await _started("serve", "--host", "0.0.0.0", "--allow-remote", "--pace", "instant", cwd=tmp_path)
    try:
        urls = await _url_lines(proc)
        assert urls[0].startswith("ws://127.0.0.1:")
        kinds = await asyncio.wait_for(speak_through(urls[0]), TIMEOUT)
        out, err = await _stopped(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert proc.returncode == EXIT_OK, err
    assert kinds[-1] == "done" and out == ""
    assert "flushscope: warning: listening on 0.0.0.0:" in err
    assert "anyone who can reach this port can use it" in err


@pytest.mark.asyncio
async def test_an_unreachable_upstream_is_a_502_counted_as_refused(tmp_path: Path) -> None:
    with socket.socket() as bound:
        # Bound, never listening: every connection to it is refused by the system.
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        proc = await _started(
            "proxy", "--listen", "127.0.0.1:0", "--upstream", f"ws://127.0.0.1:{port}",
            "--capture", str(tmp_path / "c.fscap.jsonl"), cwd=tmp_path,
        )  # fmt: skip
        try:
            (url,) = await _url_lines_local(proc)
            with pytest.raises(InvalidStatus) as caught:
                async with connect(f"{url}/tts/websocket"):
                    pass
            _, err = await _stopped(proc)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.communicate()
    assert caught.value.response.status_code == 502
    assert proc.returncode == EXIT_OK, err
    assert "Traceback" not in err
    assert f"cannot reach ws://127.0.0.1:{port}/tts/websocket: " in err
    assert "1 connections recorded, 1 refused" in err


async def _url_lines_local(proc: asyncio.subprocess.Process) -> list[str]:
    assert proc.stdout is not None
    return [(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().strip()]

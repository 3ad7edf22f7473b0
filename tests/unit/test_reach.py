"""Who can reach a listener, who is a local peer, which URL a client can use; and URLs checked in words."""

from __future__ import annotations

import pytest

from flushscope.net.reach import client_urls, is_loopback_host, peer_is_local, remote_warning
from flushscope.net.ws_url import WebSocketUrlError, check_ws_url


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost", "api.localhost", "::ffff:127.0.0.1"],
)
def test_loopback_hosts_keep_a_listener_on_this_machine(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "::", "", "192.168.1.5", "10.0.0.1", "fe80::1", "::ffff:10.0.0.1", "myhost", "example.com"],
)
def test_every_other_host_reaches_other_machines(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("address", "local"),
    [
        (("127.0.0.1", 50000), True),
        (("127.0.0.9", 50000), True),
        (("::1", 50000, 0, 0), True),
        (("::ffff:127.0.0.1", 50000, 0, 0), True),
        (("192.168.1.7", 50000), False),
        (("203.0.113.9", 443), False),
        (("fe80::2", 50000, 0, 2), False),
        (("::ffff:192.168.1.7", 50000, 0, 0), False),
        # A name is never resolved: only an address says where a peer is.
        (("localhost", 50000), False),
        # What cannot be read keeps the key home.
        (None, False),
        ("", False),
        ((), False),
        ((7, 50000), False),
    ],
)
def test_only_a_loopback_peer_is_local(address: object, local: bool) -> None:
    assert peer_is_local(address) is local


def test_a_wildcard_gives_the_loopback_url_first_and_the_host_name_for_others() -> None:
    assert client_urls("0.0.0.0", 8765, "studio") == ["ws://127.0.0.1:8765", "ws://studio:8765"]
    assert client_urls("::", 8765, "studio") == ["ws://[::1]:8765", "ws://studio:8765"]
    # A machine whose name is no help for others still gets a usable URL.
    assert client_urls("0.0.0.0", 8765, "localhost") == ["ws://127.0.0.1:8765"]
    assert client_urls("0.0.0.0", 8765, "") == ["ws://127.0.0.1:8765"]


def test_a_concrete_address_gives_itself() -> None:
    assert client_urls("127.0.0.1", 80, "studio") == ["ws://127.0.0.1:80"]
    assert client_urls("192.168.1.5", 80, "studio") == ["ws://192.168.1.5:80"]
    assert client_urls("fe80::1", 80, "studio") == ["ws://[fe80::1]:80"]


def test_the_warning_names_the_risk_the_url_for_others_and_the_key() -> None:
    urls = ["ws://127.0.0.1:9", "ws://studio:9"]
    plain = remote_warning("0.0.0.0:9", urls)
    assert "anyone who can reach this port can use it" in plain
    assert "other machines connect to ws://studio:9" in plain
    assert "key" not in plain
    kept = remote_warning("0.0.0.0:9", urls, key_shared=False)
    assert "your key is used only for connections from this machine" in kept
    shared = remote_warning("0.0.0.0:9", urls, key_shared=True)
    assert "they spend your credits" in shared


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("ws://[::1", "an IPv6 address goes in brackets"),
        ("ws://127.0.0.1:99999", "the port must be a number from 1 to 65535"),
        ("ws://127.0.0.1:-1", "the port must be a number from 1 to 65535"),
        ("ws://127.0.0.1:http", "the port must be a number from 1 to 65535"),
        ("ws://127.0.0.1:0", "port 0 cannot be connected to"),
        ("ftp://example.com", "not a WebSocket URL: ftp://example.com"),
        ("127.0.0.1:8765", "not a WebSocket URL"),
        ("ws://", "not a WebSocket URL"),
        ("ws://:80", "no host in ws://:80"),
    ],
)
def test_an_unusable_url_is_refused_in_words(text: str, words: str) -> None:
    with pytest.raises(WebSocketUrlError) as caught:
        check_ws_url(text)
    assert words in str(caught.value)


def test_a_secret_in_a_refused_url_is_not_repeated() -> None:
    with pytest.raises(WebSocketUrlError) as caught:
        check_ws_url("ws://[::1/tts/websocket?api_key=sk_secret_123")
    assert "sk_secret_123" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("ws://127.0.0.1:8765", "ws://127.0.0.1:8765"),
        (" wss://api.cartesia.ai/tts/websocket ", "wss://api.cartesia.ai/tts/websocket"),
        ("http://127.0.0.1:9/x?a=1", "ws://127.0.0.1:9/x?a=1"),
        ("HTTPS://[::1]:9", "wss://[::1]:9"),
    ],
)
def test_a_usable_url_comes_back_with_a_websocket_scheme(text: str, url: str) -> None:
    assert check_ws_url(text) == url

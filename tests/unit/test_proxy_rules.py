"""The proxy's rules without sockets: what travels upstream, when a key is replaced, how closes pass on."""

from __future__ import annotations

import pytest
from websockets.frames import Close

from flushscope.net.proxy_hints import app_settings
from flushscope.net.proxy_relay import CloseOutcome, Side, close_outcome
from flushscope.net.proxy_upstream import (
    NO_USER_AGENT,
    AuthForm,
    Upstream,
    UpstreamError,
    app_credential,
    client_label,
    is_placeholder,
    plan_upstream,
    replacement_key,
)

KEY = "sk_car_app_key_0123456789"
MINE = "sk_car_proxy_key_9876543210"
EMULATOR = Upstream.at("ws://127.0.0.1:9/", "emulator")

# What cartesia 4.2.0 sends (PROTOCOL.md section 1.4), with the handshake's own headers.
SDK_HEADERS = [
    ("Host", "127.0.0.1:8765"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
    ("Accept", "application/json"),
    ("User-Agent", "cartesia-python/4.2.0"),
    ("X-Cartesia-Client", "cartesia-python/4.2.0"),
    ("Authorization", f"Bearer {KEY}"),
    ("cartesia-version", "2026-08-14"),
]


# --- the upstream -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("ws://127.0.0.1:9", "ws://127.0.0.1:9/tts/websocket"),
        ("ws://127.0.0.1:9/", "ws://127.0.0.1:9/tts/websocket"),
        ("http://localhost:9", "ws://localhost:9/tts/websocket"),
        ("https://api.cartesia.ai", "wss://api.cartesia.ai/tts/websocket"),
        ("wss://h/custom/path?region=eu", "wss://h/custom/path?region=eu"),
    ],
)
def test_an_upstream_url_gets_the_tts_path_when_it_has_none(given: str, url: str) -> None:
    assert Upstream.at(given).url == url


@pytest.mark.parametrize("given", ["ftp://h/x", "127.0.0.1:9", "ws://", ""])
def test_an_upstream_that_is_not_a_websocket_url_is_refused_in_words(given: str) -> None:
    with pytest.raises(UpstreamError, match="not a WebSocket URL"):
        Upstream.at(given)


def test_the_default_upstream_is_cartesia() -> None:
    assert Upstream.cartesia() == Upstream("wss://api.cartesia.ai/tts/websocket", "Cartesia")


def test_an_upstream_label_never_shows_a_key() -> None:
    upstream = Upstream.at(f"wss://h/tts/websocket?api_key={KEY}")
    assert KEY not in upstream.label and KEY not in upstream.display_url
    assert upstream.display_url == "wss://h/tts/websocket?api_key=REDACTED"


# --- headers, query, user agent ---------------------------------------------------------------------


def test_the_sdks_request_travels_without_the_handshakes_own_headers() -> None:
    plan = plan_upstream(EMULATOR, "/tts/websocket", SDK_HEADERS)
    assert plan.url == "ws://127.0.0.1:9/tts/websocket"
    assert plan.headers == (
        ("Accept", "application/json"),
        ("X-Cartesia-Client", "cartesia-python/4.2.0"),
        ("Authorization", f"Bearer {KEY}"),
        ("cartesia-version", "2026-08-14"),
    )
    assert plan.user_agent == "cartesia-python/4.2.0"
    assert (plan.auth, plan.key_replaced) == (AuthForm.BEARER, False)
    assert KEY in plan.secrets
    assert plan.client_label == "cartesia-python/4.2.0"


def test_the_apps_query_goes_first_and_a_path_prefix_is_dropped() -> None:
    upstream = Upstream.at("ws://127.0.0.1:9/tts/websocket?region=eu")
    path = f"/v1/tts/websocket?api_key={KEY}&cartesia_version=2025-04-16"
    plan = plan_upstream(upstream, path, [("User-Agent", "x")])
    assert plan.url == f"ws://127.0.0.1:9/tts/websocket?api_key={KEY}&cartesia_version=2025-04-16&region=eu"
    assert plan.auth is AuthForm.API_KEY
    assert (
        plan.display_url
        == "ws://127.0.0.1:9/tts/websocket?api_key=REDACTED&cartesia_version=2025-04-16&region=eu"
    )


def test_connection_named_headers_and_proxy_credentials_stay_behind() -> None:
    headers = [("Proxy-Authorization", "Basic c2VjcmV0OnNlY3JldA=="), ("Keep-Alive", "5"), ("X-Debug", "1")]
    plan = plan_upstream(EMULATOR, "/tts/websocket", headers)
    assert plan.headers == (("X-Debug", "1"),)
    assert plan.user_agent is None
    assert "c2VjcmV0OnNlY3JldA==" in plan.secrets


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        ("LiveKit Agents Cartesia Plugin/1.8.9", "LiveKit Agents Cartesia Plugin/1.8.9"),
        ("Python/3.12 websockets/13.1", "Python/3.12 websockets/13.1"),
        (None, NO_USER_AGENT),
        ("  ", NO_USER_AGENT),
        ("a\tb\n c", "a b c"),
        ("x" * 300, "x" * 199 + "…"),
    ],
)
def test_client_label(user_agent: str | None, label: str) -> None:
    assert client_label(user_agent) == label


@pytest.mark.parametrize(
    ("path", "headers", "found"),
    [
        (
            "/tts/websocket",
            [("Authorization", f"Bearer {KEY}"), ("X-API-Key", "other")],
            (AuthForm.BEARER, KEY),
        ),
        ("/tts/websocket", [("Authorization", "Basic abc"), ("x-api-key", KEY)], (AuthForm.X_API_KEY, KEY)),
        (f"/tts/websocket?api_key={KEY}", [], (AuthForm.API_KEY, KEY)),
        ("/tts/websocket?access_token=tok%2Fen", [], (AuthForm.ACCESS_TOKEN, "tok/en")),
        ("/tts/websocket?cartesia_version=2025-04-16", [], (AuthForm.NONE, None)),
    ],
)
def test_the_apps_credential_is_found_where_the_service_looks(
    path: str, headers: list[tuple[str, str]], found: tuple[AuthForm, str | None]
) -> None:
    assert app_credential(path, headers) == found


# --- keys ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "placeholder"),
    [
        (None, True),
        ("", True),
        ("   ", True),
        ("x", True),
        ("XXXX", True),
        ("0000", True),
        ("Placeholder", True),
        ("dummy", True),
        ("TEST", True),
        ("fake", True),
        ("none", True),
        ("null", True),
        ("changeme", True),
        ("sk_car_123", False),
        ("xy", False),
        ("testing", False),
    ],
)
def test_placeholder_keys(key: str | None, placeholder: bool) -> None:
    assert is_placeholder(key) is placeholder


@pytest.mark.parametrize(
    ("app_key", "explicit", "fallback", "sent"),
    [
        (KEY, None, None, None),
        (KEY, MINE, None, MINE),
        ("x", MINE, "env", MINE),
        (KEY, None, MINE, None),
        ("x", None, MINE, MINE),
        (None, None, MINE, MINE),
        ("x", None, None, None),
    ],
)
def test_an_explicit_key_always_wins_a_fallback_only_replaces_placeholders(
    app_key: str | None, explicit: str | None, fallback: str | None, sent: str | None
) -> None:
    assert replacement_key(app_key, explicit, fallback) == sent


def test_a_replaced_key_goes_where_the_app_put_its_own() -> None:
    bearer = plan_upstream(EMULATOR, "/tts/websocket", [("Authorization", "Bearer x")], api_key=MINE)
    assert bearer.headers == (("Authorization", f"Bearer {MINE}"),)
    header = plan_upstream(
        EMULATOR, "/tts/websocket", [("X-API-Key", "x"), ("Cartesia-Version", "v")], api_key=MINE
    )
    assert header.headers == (("Cartesia-Version", "v"), ("X-API-Key", MINE))
    query = plan_upstream(EMULATOR, "/tts/websocket?api_key=x&cartesia_version=v", [], fallback_key=MINE)
    assert query.url == f"ws://127.0.0.1:9/tts/websocket?cartesia_version=v&api_key={MINE}"
    assert query.headers == ()
    for plan in (bearer, header, query):
        assert plan.key_replaced and MINE in plan.secrets and MINE not in plan.display_url


def test_a_replaced_token_or_a_missing_key_becomes_an_x_api_key_header() -> None:
    token = plan_upstream(EMULATOR, "/tts/websocket?access_token=x&a=1", [], api_key=MINE)
    assert token.url == "ws://127.0.0.1:9/tts/websocket?a=1"
    assert token.headers == (("X-API-Key", MINE),)
    missing = plan_upstream(EMULATOR, "/tts/websocket", [("User-Agent", "app")], fallback_key=MINE)
    assert (missing.auth, missing.headers, missing.key_replaced) == (
        AuthForm.NONE,
        (("X-API-Key", MINE),),
        True,
    )


def test_a_real_app_key_is_kept_when_only_a_fallback_exists() -> None:
    plan = plan_upstream(EMULATOR, "/tts/websocket", [("X-API-Key", KEY)], fallback_key=MINE)
    assert plan.headers == (("X-API-Key", KEY),)
    assert not plan.key_replaced
    assert MINE not in plan.secrets


# --- closes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "rcvd", "sent", "rcvd_then_sent", "stopping", "outcome"),
    [
        # The app closed: its code goes upstream as it was.
        (Side.APP, Close(1000, ""), Close(1000, ""), True, False, CloseOutcome(1000, "", Side.APP, 1000, "")),
        (Side.APP, Close(4001, "bye"), Close(4001, "bye"), True, False, CloseOutcome(4001, "bye", Side.APP, 4001, "bye")),
        # The upstream closed, with a code or with none.
        (Side.UPSTREAM, Close(1000, "connection idle timeout"), Close(1000, "connection idle timeout"), True, False,
         CloseOutcome(1000, "connection idle timeout", Side.UPSTREAM, 1000, "connection idle timeout")),
        (Side.UPSTREAM, Close(1005, ""), Close(1005, ""), True, False, CloseOutcome(1005, "", Side.UPSTREAM, None, "")),
        # Dropped without a close frame.
        (Side.APP, None, None, None, False, CloseOutcome(1006, "", Side.APP, 1001, "client went away")),
        (Side.UPSTREAM, None, None, None, False, CloseOutcome(1006, "", Side.UPSTREAM, 1014, "upstream dropped")),
        # The proxy closed a side itself.
        (Side.UPSTREAM, None, Close(1011, "keepalive ping timeout"), None, False,
         CloseOutcome(1011, "keepalive ping timeout", Side.PROXY, 1014, "upstream: keepalive ping timeout")),
        (Side.APP, Close(1007, ""), Close(1007, "invalid UTF-8"), False, False,
         CloseOutcome(1007, "invalid UTF-8", Side.PROXY, 1001, "client: invalid UTF-8")),
        (Side.APP, Close(1001, ""), Close(1001, ""), False, True, CloseOutcome(1001, "", Side.PROXY, 1001, "proxy stopped")),
    ],
)  # fmt: skip
def test_close_outcome(
    side: Side,
    rcvd: Close | None,
    sent: Close | None,
    rcvd_then_sent: bool | None,
    stopping: bool,
    outcome: CloseOutcome,
) -> None:
    assert close_outcome(side, rcvd, sent, rcvd_then_sent, stopping=stopping) == outcome


def test_a_relayed_reason_fits_a_close_frame() -> None:
    outcome = close_outcome(Side.UPSTREAM, None, Close(1011, "é" * 61), None)
    assert len(outcome.relayed_reason.encode()) <= 123
    assert outcome.relayed_reason.startswith("upstream: é")


def test_app_settings_point_each_client_at_the_proxy() -> None:
    settings = {s.client: s.text for s in app_settings("ws://127.0.0.1:8765")}
    assert settings == {
        "URL": "ws://127.0.0.1:8765/tts/websocket",
        "Python SDK": 'Cartesia(api_key=..., websocket_base_url="ws://127.0.0.1:8765")',
        "Pipecat": 'CartesiaTTSService(api_key=..., url="ws://127.0.0.1:8765/tts/websocket", ...)',
        "LiveKit": 'cartesia.TTS(api_key=..., base_url="http://127.0.0.1:8765")',
    }
    # An IPv6 listener keeps its brackets.
    assert app_settings("ws://[::1]:9000")[0].text == "ws://[::1]:9000/tts/websocket"

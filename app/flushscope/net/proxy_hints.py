"""What a user pastes into their own app to send it through the recording proxy: the URL, and the one line
each common client takes (the official Python SDK, Pipecat, LiveKit's plugin).

How each client is pointed at another server is in PROTOCOL.md sections 10 and 12: the SDK adds
``/tts/websocket`` to ``websocket_base_url`` (and needs the ``ws://`` scheme written out), Pipecat takes the
whole URL, LiveKit takes an ``http://`` base and turns it into ``ws://.../tts/websocket`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from flushscope.net.client import TTS_PATH
from flushscope.net.reach import REMOTE_RISK


@dataclass(frozen=True)
class AppSetting:
    """One way to point a client at the proxy: who it is for, and the text to paste."""

    client: str
    text: str


def remote_note(remote_urls: Sequence[str]) -> str:
    """The warning for a proxy that other machines can reach at ``remote_urls`` (empty: none)."""
    if not remote_urls:
        return ""
    return (
        f"Other machines can reach this proxy: {REMOTE_RISK}. Your key goes only on this machine's "
        "connections."
    )


def app_settings(proxy_url: str, remote_urls: Sequence[str] = ()) -> list[AppSetting]:
    """The settings for a proxy listening at ``proxy_url`` (``ws://HOST:PORT``), and the URL for other
    machines among ``remote_urls`` when it is another. API keys are left to the app: the placeholder ``...``
    stands for the key it already uses."""
    parts = urlsplit(proxy_url)
    base = urlunsplit(("ws", parts.netloc, "", "", ""))
    full = base + TTS_PATH
    http = urlunsplit(("http", parts.netloc, "", "", ""))
    return [
        AppSetting("URL", full),
        AppSetting("Python SDK", f'Cartesia(api_key=..., websocket_base_url="{base}")'),
        AppSetting("Pipecat", f'CartesiaTTSService(api_key=..., url="{full}", ...)'),
        AppSetting("LiveKit", f'cartesia.TTS(api_key=..., base_url="{http}")'),
        *(
            AppSetting("Other machines", urlunsplit(("ws", urlsplit(other).netloc, TTS_PATH, "", "")))
            for other in remote_urls
            if urlsplit(other).netloc != parts.netloc
        ),
    ]

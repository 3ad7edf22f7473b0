"""What an empty timeline says, where that depends on what the window is doing (Qt-free)."""

from __future__ import annotations

from flushscope.net.proxy_hints import app_settings


def waiting_for_app(proxy_url: str) -> str:
    """While the recording proxy listens at ``proxy_url`` (``ws://HOST:PORT``) and no app has spoken yet."""
    return f"Waiting for your app to connect to {app_settings(proxy_url)[0].text}"

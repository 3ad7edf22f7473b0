"""A WebSocket URL typed by a person, checked before anything starts: a sentence for every way it can be
wrong (no scheme or another one, no host, a broken IPv6 address, a port that is not a port), never a
traceback from deep inside a connection attempt."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flushscope.core.store.redaction import redact_url

#: The schemes taken, and what each means on a WebSocket.
_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}
_HINT = "use ws://HOST:PORT or wss://..."


class WebSocketUrlError(ValueError):
    """A URL that cannot name a WebSocket server, in words (secrets removed)."""


def check_ws_url(text: str) -> str:
    """``text`` as a ``ws://`` or ``wss://`` URL (``http``/``https`` are taken as such); raises
    :class:`WebSocketUrlError` saying what is wrong."""
    url = text.strip()
    if not url:
        raise WebSocketUrlError(f"not a WebSocket URL: it is empty ({_HINT})")
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebSocketUrlError(f"not a usable URL: {shown} ({_why(str(exc))})") from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise WebSocketUrlError(f"not a WebSocket URL: {shown} ({_HINT})")
    if not parts.hostname:
        raise WebSocketUrlError(f"no host in {shown} ({_HINT})")
    if port == 0:
        raise WebSocketUrlError(f"port 0 cannot be connected to: {shown}")
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def _why(message: str) -> str:
    if "IPv6" in message:
        return "an IPv6 address goes in brackets, [::1]"
    if "out of range" in message or "could not be cast" in message:
        return "the port must be a number from 1 to 65535"
    return message

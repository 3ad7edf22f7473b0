"""Where the proxy connects, and what it sends there for each app's upgrade request.

Pure functions of the app's request (path and headers), so the rules are tested without sockets:

- the upstream URL is the upstream's own (its path, ``/tts/websocket`` by default) with the app's query
  string first and the upstream URL's query after it: ``cartesia_version``, ``api_key`` and
  ``access_token`` travel as the app sent them;
- every request header travels except the hop-by-hop ones and those of the WebSocket handshake itself
  (each side negotiates its own key, version, extensions and compression; no subprotocol is offered
  upstream, as Cartesia's clients ask for none); ``User-Agent`` travels as is, and none is added when the
  app sent none;
- the key is replaced (see :func:`replacement_key`) by a key given to the proxy explicitly, always; or by a
  fallback key (``CARTESIA_API_KEY``) only when the app's key is a placeholder (:func:`is_placeholder`).
  A replaced key goes where the app put its own (``Authorization: Bearer``, ``X-API-Key`` or ``?api_key=``),
  or in ``X-API-Key`` when the app sent none or an ``access_token``; the app's other credentials are dropped.

Every credential value the app sent, and the key put in its place, are listed in
:attr:`UpstreamRequest.secrets` so that the capture can redact them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from flushscope.core.store.redaction import redact_text, redact_url
from flushscope.net.client import CARTESIA_URL, TTS_PATH
from flushscope.net.ws_url import WebSocketUrlError, check_ws_url

#: Request headers that belong to one hop (RFC 9110 section 7.6.1) or to the WebSocket handshake of one side.
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-accept",
        "sec-websocket-protocol",
    }
)

#: Keys that stand for "no key" (compared without case), besides a blank key and one character repeated.
PLACEHOLDER_KEYS: Final = frozenset({"placeholder", "dummy", "test", "fake", "none", "null", "changeme"})

#: The label of a connection whose client sent no User-Agent.
NO_USER_AGENT: Final = "no User-Agent"

_SECRET_NAME = re.compile(r"key|token|secret|auth", re.IGNORECASE)
_CREDENTIAL_PARAMS: Final = ("api_key", "access_token")
_MAX_LABEL: Final = 200


class UpstreamError(ValueError):
    """An upstream URL the proxy cannot use, in words."""


@dataclass(frozen=True)
class Upstream:
    """The TTS WebSocket the proxy forwards to: a full URL and a name for people."""

    url: str
    label: str

    @classmethod
    def cartesia(cls) -> Upstream:
        """Cartesia's real endpoint."""
        return cls(CARTESIA_URL, "Cartesia")

    @classmethod
    def at(cls, url: str, label: str | None = None) -> Upstream:
        """The server at ``url``: ``ws://`` or ``wss://`` (``http``/``https`` are taken as such); a URL
        without a path gets ``/tts/websocket``. Raises :class:`UpstreamError` for anything else (see
        :func:`~flushscope.net.ws_url.check_ws_url`)."""
        try:
            parts = urlsplit(check_ws_url(url))
        except WebSocketUrlError as exc:
            raise UpstreamError(str(exc)) from None
        path = parts.path if parts.path not in ("", "/") else TTS_PATH
        full = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        return cls(full, label or redact_url(full))

    @property
    def display_url(self) -> str:
        """The URL with secrets removed."""
        return redact_url(self.url)


class AuthForm(StrEnum):
    """How the app presented its key, in the order the service looks for one."""

    BEARER = "bearer"
    X_API_KEY = "x-api-key"
    API_KEY = "api_key"
    ACCESS_TOKEN = "access_token"
    NONE = "none"


@dataclass(frozen=True)
class UpstreamRequest:
    """What to open upstream for one app connection."""

    #: The URL to connect to, credentials included: never log or record it, use :attr:`display_url`.
    url: str
    #: Headers to send, in the app's order (User-Agent apart).
    headers: tuple[tuple[str, str], ...]
    #: The app's User-Agent, sent as is; None when it sent none.
    user_agent: str | None
    #: How the app authenticated.
    auth: AuthForm
    #: True when the proxy put its own key in place of the app's.
    key_replaced: bool
    #: Every key and token involved, for the capture to redact.
    secrets: frozenset[str]

    @property
    def display_url(self) -> str:
        """The upstream URL with secrets removed, for logs, captures and the window."""
        return redact_text(redact_url(self.url), self.secrets)

    @property
    def client_label(self) -> str:
        """Who connected: the app's User-Agent, or a word saying it sent none."""
        return client_label(self.user_agent)


def client_label(user_agent: str | None) -> str:
    """A connection's label: its client's User-Agent (shortened), or :data:`NO_USER_AGENT`."""
    if user_agent is None or not user_agent.strip():
        return NO_USER_AGENT
    label = " ".join(user_agent.split())
    return label if len(label) <= _MAX_LABEL else label[: _MAX_LABEL - 1] + "…"


def is_placeholder(key: str | None) -> bool:
    """True for a key that stands for "no key": missing, blank, one character repeated (``x``, ``xxx``),
    or one of :data:`PLACEHOLDER_KEYS` in any case."""
    if key is None:
        return True
    key = key.strip()
    return not key or len(set(key)) == 1 or key.lower() in PLACEHOLDER_KEYS


def replacement_key(app_key: str | None, api_key: str | None, fallback_key: str | None) -> str | None:
    """The key to send instead of the app's, or None to keep the app's: ``api_key`` (given explicitly)
    always wins; ``fallback_key`` (from the environment) only stands in for a placeholder."""
    if api_key:
        return api_key
    if fallback_key and is_placeholder(app_key):
        return fallback_key
    return None


def _bearer(value: str) -> str | None:
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """``(decoded name, raw pair)`` for each pair of a raw query string."""
    return [(unquote_plus(pair.partition("=")[0]), pair) for pair in query.split("&") if pair]


def _query_value(pair: str) -> str:
    return unquote_plus(pair.partition("=")[2])


def app_credential(path: str, headers: Sequence[tuple[str, str]]) -> tuple[AuthForm, str | None]:
    """The key the app presented and how, looked for in the order the service does."""
    for name, value in headers:
        if name.lower() == "authorization" and (token := _bearer(value)) is not None:
            return AuthForm.BEARER, token
    for name, value in headers:
        if name.lower() == "x-api-key":
            return AuthForm.X_API_KEY, value.strip()
    pairs = _query_pairs(urlsplit(path).query)
    for param, form in (("api_key", AuthForm.API_KEY), ("access_token", AuthForm.ACCESS_TOKEN)):
        for name, pair in pairs:
            if name == param:
                return form, _query_value(pair)
    return AuthForm.NONE, None


def _secrets_of(path: str, headers: Sequence[tuple[str, str]]) -> set[str]:
    found: set[str] = set()
    for name, value in headers:
        lowered = name.lower()
        # Sec-WebSocket-Key names a key but is a nonce of the handshake, not a credential.
        if lowered in HOP_BY_HOP and lowered != "proxy-authorization":
            continue
        if lowered in ("authorization", "proxy-authorization") or _SECRET_NAME.search(name):
            found.add(value.strip())
            if lowered.endswith("authorization"):
                found.add(value.strip().partition(" ")[2].strip())
    for name, pair in _query_pairs(urlsplit(path).query):
        if _SECRET_NAME.search(name):
            found.add(_query_value(pair))
            found.add(pair.partition("=")[2])
    return {s for s in found if s}


def plan_upstream(
    upstream: Upstream,
    path: str,
    headers: Sequence[tuple[str, str]],
    *,
    api_key: str | None = None,
    fallback_key: str | None = None,
) -> UpstreamRequest:
    """The upstream request for an app that asked for ``path`` (with its query) with ``headers``."""
    auth, app_key = app_credential(path, headers)
    key = replacement_key(app_key, api_key, fallback_key)
    secrets = _secrets_of(path, headers)
    if key is not None:
        secrets.add(key)

    user_agent: str | None = None
    sent: list[tuple[str, str]] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "user-agent":
            user_agent = value
            continue
        if lowered in HOP_BY_HOP:
            continue
        if key is not None and (lowered == "x-api-key" or (lowered == "authorization" and _bearer(value))):
            continue
        sent.append((name, value))

    app_pairs = _query_pairs(urlsplit(path).query)
    pairs = [raw for name, raw in app_pairs if key is None or name not in _CREDENTIAL_PARAMS]
    if key is not None:
        if auth is AuthForm.API_KEY:
            pairs.append("api_key=" + quote(key, safe=""))
        elif auth is AuthForm.BEARER:
            sent.append(("Authorization", f"Bearer {key}"))
        else:
            sent.append(("X-API-Key", key))

    parts = urlsplit(upstream.url)
    query = "&".join([*pairs, *(p for p in parts.query.split("&") if p)])
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return UpstreamRequest(url, tuple(sent), user_agent, auth, key is not None, frozenset(secrets))

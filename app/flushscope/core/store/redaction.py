"""Secrets kept out of capture files: credentials in URLs, and every known secret string wherever it appears.

The target URL loses its credentials (:func:`redact_url`). A :class:`Redactor` replaces every secret it is given
(at creation, or later with :meth:`Redactor.add`) by ``REDACTED`` wherever it appears, also in its JSON-escaped
and URL-encoded spellings. A frame that carried a secret is therefore not stored verbatim; that is the point.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Final
from urllib.parse import quote, quote_plus, unquote_plus

__all__ = ["REDACTED", "Redactor", "redact_text", "redact_url"]

REDACTED: Final = "REDACTED"
# Shorter strings would blank out ordinary words and numbers all over a capture.
_MIN_SECRET_LEN: Final = 4

_SECRET_NAME = re.compile(r"key|token|secret|auth", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def redact_url(url: str) -> str:
    """``url`` with its secrets replaced by ``REDACTED`` and everything else left exactly as it was.

    Secrets are the user information of the authority (``user:password@``, often a token) and the values of
    query and fragment parameters whose decoded name contains ``key``, ``token``, ``secret`` or ``auth`` in
    any case (``api_key``, ``access_token``, ``X-Auth``, ...). Works on strings that do not parse as URLs.
    """
    rest = url
    head = ""
    if scheme := _SCHEME.match(url):
        end = scheme.end()
        authority_end = len(url)
        for stop in "/?#":
            found = url.find(stop, end)
            if found != -1:
                authority_end = min(authority_end, found)
        authority = url[end:authority_end]
        at = authority.rfind("@")
        if at != -1:
            authority = f"{REDACTED}@{authority[at + 1 :]}"
        head = url[:end] + authority
        rest = url[authority_end:]
    fragment = ""
    hash_at = rest.find("#")
    if hash_at != -1:
        rest, fragment = rest[:hash_at], "#" + _redact_params(rest[hash_at + 1 :])
    query_at = rest.find("?")
    if query_at != -1:
        rest = rest[: query_at + 1] + _redact_params(rest[query_at + 1 :])
    return head + rest + fragment


def _redact_params(params: str) -> str:
    pairs = params.split("&")
    for i, pair in enumerate(pairs):
        name, eq, _value = pair.partition("=")
        if eq and _SECRET_NAME.search(unquote_plus(name)):
            pairs[i] = f"{name}={REDACTED}"
    return "&".join(pairs)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret of at least four characters replaced by ``REDACTED``, longest first."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET_LEN}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _secret_spellings(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every way a secret can appear inside a frame: as is, escaped inside a JSON string, URL-encoded."""
    spellings: set[str] = set()
    for secret in secrets:
        if len(secret) < _MIN_SECRET_LEN:
            continue
        spellings.update(
            (
                secret,
                encode_basestring(secret)[1:-1],
                json.dumps(secret)[1:-1],
                quote(secret, safe=""),
                quote_plus(secret, safe=""),
            )
        )
    return tuple(sorted(spellings, key=len, reverse=True))


class Redactor:
    """Replaces the secrets it knows by ``REDACTED``, in every spelling a frame may carry them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = tuple(secrets)
        self._spellings = _secret_spellings(self._secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Redact these too, from now on."""
        fresh = {s for s in secrets if len(s) >= _MIN_SECRET_LEN} - set(self._secrets)
        if fresh:
            self._secrets = (*self._secrets, *sorted(fresh))
            self._spellings = _secret_spellings(self._secrets)

    def redact(self, text: str) -> str:
        """``text`` with every spelling of every secret replaced, longest first."""
        for spelling in self._spellings:
            if spelling in text:
                text = text.replace(spelling, REDACTED)
        return text

"""Word and phoneme timings from espeak-ng's own events, matched to the transcript's tokens.

espeak-ng reports where each word and phoneme starts, as a sample position in its audio; words are
reported by character position in the text it was given. Here those events become the transcript's own
whitespace tokens, each exactly once and in order, so that a client can align them with what it sent.
Times are seconds from the start of one synthesis; the context adds its earlier audio to count them from
its first audio.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class TimedToken:
    """One word (or phoneme) and where it sounds, in seconds from the start of this synthesis."""

    text: str
    start: float
    end: float


_TOKEN = re.compile(r"\S+")
# Punctuation espeak-ng does not pronounce (by default). The other "Po" characters, such as & % # @ / *,
# are read as words.
_SILENT_CATEGORIES: Final = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf"})
_SILENT_MARKS: Final = frozenset(".,;:!?¡¿…‥·'\"‚„‹›«»、。，．：；！？")


def _is_silent(token: str) -> bool:
    return all(c in _SILENT_MARKS or unicodedata.category(c) in _SILENT_CATEGORIES for c in token)


def align_words(
    text: str, events: Sequence[tuple[int, int]], total: int, rate: int
) -> tuple[TimedToken, ...]:
    """Time every whitespace token of ``text`` from espeak-ng's word events.

    ``events`` are (1-based character position, sample) pairs; ``total`` is the audio's length in samples
    at ``rate``. An event belongs to the token containing its position, or to the token before it when the
    position is in whitespace (espeak-ng puts the second word of an emoji's name there). A word after
    silent punctuation (``a - b``) is reported at the punctuation, so such an event moves on to the next
    pronounced token. Events never move backwards, and several in one token merge.

    A token without an event was spoken inside the previous timed token's interval (``U.S.A. e-mail``,
    ``A & B``) or not at all (``a - b``): pronounced ones split that interval with it in proportion to
    their lengths, silent ones get a zero-length interval where they stand.
    """
    matches = list(_TOKEN.finditer(text))
    if not matches:
        return ()
    tokens = [m.group() for m in matches]
    starts = [m.start() for m in matches]
    silent = [_is_silent(token) for token in tokens]
    pronounced_after: list[int | None] = [None] * len(tokens)
    following: int | None = None
    for k in range(len(tokens) - 1, -1, -1):
        pronounced_after[k] = following
        if not silent[k]:
            following = k

    timed: dict[int, int] = {}  # token index -> sample where it starts, in token order
    current = 0
    floor = 0
    for position, sample in events:
        index = min(max(position - 1, 0), len(text) - 1)
        k = max(current, bisect_right(starts, index) - 1)
        if silent[k] and (later := pronounced_after[k]) is not None:
            k = later
        current = k
        if k not in timed:
            floor = min(max(sample, floor), total)
            timed[k] = floor

    # (first token, end token, start sample, end sample) for runs of tokens sharing one interval
    groups: list[tuple[int, int, int, int]]
    if not timed:
        groups = [(0, len(tokens), 0, total)]
    else:
        anchors = list(timed)
        bounds = [*timed.values(), total]
        groups = [(0, anchors[0], bounds[0], bounds[0])]
        for n, k in enumerate(anchors):
            stop = anchors[n + 1] if n + 1 < len(anchors) else len(tokens)
            groups.append((k, stop, bounds[n], bounds[n + 1]))

    words: list[TimedToken] = []
    for lo, hi, begin, finish in groups:
        weights = [0 if silent[k] else len(tokens[k]) for k in range(lo, hi)]
        if lo < hi and not any(weights):
            weights = [len(tokens[k]) for k in range(lo, hi)]
        whole = sum(weights) or 1
        done = 0
        for k, weight in zip(range(lo, hi), weights, strict=True):
            a = begin + (finish - begin) * done // whole
            done += weight
            b = begin + (finish - begin) * done // whole
            words.append(TimedToken(tokens[k], a / rate, b / rate))
    return tuple(words)


def align_phonemes(events: Sequence[tuple[int, str]], total: int, rate: int) -> tuple[TimedToken, ...]:
    """Time phoneme events, (sample, name) pairs: each lasts until the next one (pauses included) or the end
    of the audio, ``total`` samples at ``rate``; pauses (blank names) are left out."""
    samples: list[int] = []
    floor = 0
    for sample, _name in events:
        floor = min(max(sample, floor), total)
        samples.append(floor)
    samples.append(total)
    return tuple(
        TimedToken(name, samples[i] / rate, samples[i + 1] / rate)
        for i, (_sample, name) in enumerate(events)
        if name.strip()
    )

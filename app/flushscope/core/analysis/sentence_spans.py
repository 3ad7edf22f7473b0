"""Where a sentence of a text sounds in a context's audio, found from the context's word timestamps.

The text is cut into sentences the way the ``sentence`` flush strategy cuts it. Word timestamps count from
the context's first audio, so they are positions in the context's audio whichever segments carried them.
A sentence is matched to the words by its letters and digits: the text and the words are both reduced to
them (case folded) and laid end to end, and the sentence's letters are the words' letters at the same
place. When the server spoke the text differently (a number read out, a word dropped) the two sequences
are aligned first (the longest matching runs of letters, as ``difflib`` finds them), and the sentence is
taken from where its first letter and its last one land.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import accumulate

from flushscope.core.inputs.strategies import Strategy, StrategyKind
from flushscope.core.model.records import Context, TimedToken

_SENTENCES = Strategy("sentence", StrategyKind.SENTENCE)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a text: where it is in the text (characters ``start`` to ``end``), and its words."""

    text: str
    start: int
    end: int


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text``, each without the whitespace after it; none for a text without words."""
    found: list[Sentence] = []
    at = 0
    for piece in _SENTENCES.split(text) if any(ch.isalnum() for ch in text) else []:
        stripped = piece.strip()
        lead = len(piece) - len(piece.lstrip())
        found.append(Sentence(stripped, at + lead, at + lead + len(stripped)))
        at += len(piece)
    return found


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _alignment(text: str, spoken: str) -> tuple[Callable[[int], int], Callable[[int], int]]:
    """Where a letter offset of ``text`` lands in ``spoken``: as a start (the next matched letter) and as
    an end (just after the last matched letter before it)."""
    if text == spoken:
        return (lambda p: p), (lambda p: p)
    blocks = [b for b in SequenceMatcher(None, text, spoken, autojunk=False).get_matching_blocks() if b.size]

    def start(p: int) -> int:
        for a, b, size in blocks:
            if a + size > p:
                return b + max(0, p - a)
        return len(spoken)

    def end(p: int) -> int:
        found = 0
        for a, b, size in blocks:
            if a >= p:
                break
            found = b + min(size, p - a)
        return found

    return start, end


def context_words(ctx: Context) -> list[TimedToken]:
    """The context's word timestamps in order (segment by segment, as they arrived)."""
    return [word for segment in ctx.segments for word in segment.words]


def sentence_span(ctx: Context, text: str, sentence: Sentence) -> tuple[float, float] | None:
    """Seconds into ``ctx``'s audio from the first word of ``sentence`` (a sentence of ``text``) to the end
    of its last, within the audio received; None without word timestamps or when no word falls in it."""
    words = context_words(ctx)
    spoken = [_letters(w.text) for w in words]
    ends = list(accumulate(len(s) for s in spoken))
    total = ends[-1] if ends else 0
    if not total:
        return None
    before = len(_letters(text[: sentence.start]))
    after = before + len(_letters(text[sentence.start : sentence.end]))
    if after == before:
        return None
    to_start, to_end = _alignment(_letters(text), "".join(spoken))
    lo, hi = to_start(before), to_end(after)
    if hi <= lo:
        return None
    # Words whose letters overlap [lo, hi) of the words' letters laid end to end.
    first = bisect_right(ends, lo)
    last = bisect_left(ends, hi)
    chosen = [w for w, s in zip(words[first : last + 1], spoken[first : last + 1], strict=True) if s]
    if not chosen:
        return None
    limit = ctx.audio_seconds
    start = min(max(0.0, chosen[0].start), limit)
    end = min(max(w.end for w in chosen), limit)
    return (start, end) if end > start else None

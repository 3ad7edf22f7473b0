"""Flush strategies: how a client cuts one text into segments, each sent and then flushed.

Every strategy splits the text into pieces that concatenate back to the text exactly: the whitespace after
a cut stays with the piece before it, so no piece starts with a space and none runs into the next (the
service joins a context's inputs verbatim). The strategies, as written on a command line:

``sentence``
    Cut after a sentence end (``.``, ``!``, ``?``, ``…``, closing quotes or brackets after them) followed
    by whitespace, and after ``。！？`` with or without it. ``3.14`` and ``e.g.x`` are not cut; ``Mr. Smith``
    is, as any simple splitter would.
``punctuation``
    Cut after any clause or sentence punctuation (``, ; : . ! ? …`` and dashes) followed by whitespace, and
    after full-width CJK punctuation.
``words=N``
    Cut after every N words (N at least 1).
``one``
    The whole text as one segment.
a custom split
    The text with ``|`` where it is to be cut (``"Hello there.|How are you?"``), optionally after
    ``custom=``. Only where the cuts fall is taken from it: the pieces sent are slices of the text, with the
    text's own whitespace, so the split must spell the text but may differ from it in whitespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from flushscope.core.inputs.text_shape import has_words


class StrategyError(ValueError):
    """A strategy that cannot be used on the text, with what is wrong."""


class StrategyKind(StrEnum):
    """The kinds of strategy."""

    SENTENCE = "sentence"
    PUNCTUATION = "punctuation"
    WORDS = "words"
    ONE = "one"
    CUSTOM = "custom"


_SENTENCE_CUT: Final = re.compile(r"[.!?…]+[\"'”’)\]}»]*\s+|[。！？]+[」』）]*\s*")
_CLAUSE_CUT: Final = re.compile(r"[.!?…,;:—–]+[\"'”’)\]}»]*\s+|[。！？，、；：]+[」』）]*\s*")
_WORD: Final = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class Strategy:
    """One way of cutting a text; ``name`` is how it was written."""

    name: str
    kind: StrategyKind
    words: int = 0
    pieces: tuple[str, ...] = ()

    def split(self, text: str) -> list[str]:
        """The pieces of ``text``, each to be sent and flushed in turn. Raises :class:`StrategyError` for a
        text without words, or a custom split that does not spell the text."""
        if not has_words(text):
            raise StrategyError(
                "the text has no words: the service rejects a context that starts without any"
            )
        match self.kind:
            case StrategyKind.SENTENCE:
                return _cut(text, _SENTENCE_CUT)
            case StrategyKind.PUNCTUATION:
                return _cut(text, _CLAUSE_CUT)
            case StrategyKind.WORDS:
                return _by_words(text, self.words)
            case StrategyKind.ONE:
                return [text]
            case StrategyKind.CUSTOM:
                return _cut_like(text, self.pieces, self.name)
        raise AssertionError(self.kind)


def _cut_like(text: str, pieces: tuple[str, ...], name: str) -> list[str]:
    """``text`` cut where ``pieces`` are cut, comparing everything but whitespace."""
    if "".join("".join(pieces).split()) != "".join(text.split()):
        raise StrategyError(f"the custom split {name!r} does not spell the text {text!r}")
    cuts: list[int] = []
    pos = 0
    for piece in pieces[:-1]:
        remaining = sum(1 for ch in piece if not ch.isspace())
        while remaining:
            remaining -= not text[pos].isspace()
            pos += 1
        while pos < len(text) and text[pos].isspace():
            pos += 1
        cuts.append(pos)
    return _merge_blank([text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)])


def _cut(text: str, pattern: re.Pattern[str]) -> list[str]:
    cuts = [m.end() for m in pattern.finditer(text)]
    return _merge_blank([text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)])


def _by_words(text: str, per_piece: int) -> list[str]:
    lead = len(text) - len(text.lstrip())
    tokens = [m.group() for m in _WORD.finditer(text, lead)]
    pieces = ["".join(tokens[i : i + per_piece]) for i in range(0, len(tokens), per_piece)]
    if pieces:
        pieces[0] = text[:lead] + pieces[0]
    return _merge_blank(pieces)


def _merge_blank(pieces: list[str]) -> list[str]:
    """Drop empty pieces and fold whitespace-only ones into the piece before (or after, at the start)."""
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        if not piece:
            continue
        if not piece.strip():
            if merged:
                merged[-1] += piece
            else:
                carry += piece
            continue
        merged.append(carry + piece)
        carry = ""
    return merged


def parse_strategy(spec: str) -> Strategy:
    """A strategy from how it is written (see the module docstring); :class:`StrategyError` if unknown."""
    name = spec.strip()
    lowered = name.lower()
    if "|" in spec:
        body = spec.split("=", 1)[1] if lowered.startswith("custom=") else spec
        pieces = tuple(body.split("|"))
        if any(not piece.strip() for piece in pieces):
            raise StrategyError(
                f"the custom split {spec!r} has an empty piece (two | in a row, or one at an end)"
            )
        return Strategy(spec, StrategyKind.CUSTOM, pieces=pieces)
    if lowered in (StrategyKind.SENTENCE, StrategyKind.PUNCTUATION, StrategyKind.ONE):
        return Strategy(lowered, StrategyKind(lowered))
    if lowered.startswith("words="):
        count = lowered.split("=", 1)[1].strip()
        if not count.isdigit() or int(count) < 1:
            raise StrategyError(f"words=N needs a whole number of words, at least 1, not {count!r}")
        return Strategy(f"words={int(count)}", StrategyKind.WORDS, words=int(count))
    raise StrategyError(
        f"unknown strategy {spec!r}: use sentence, punctuation, words=N, one, or pieces separated by |"
    )


@dataclass(frozen=True)
class StrategyPlan:
    """A strategy and the pieces it cuts the text into."""

    strategy: Strategy
    pieces: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.strategy.name


def plan_strategies(text: str, specs: list[str]) -> list[StrategyPlan]:
    """Parse every strategy and split ``text`` with it. Raises :class:`StrategyError` for the first bad one
    or for two strategies of the same name."""
    plans: list[StrategyPlan] = []
    for spec in specs:
        strategy = parse_strategy(spec)
        if any(plan.name == strategy.name for plan in plans):
            raise StrategyError(f"the strategy {strategy.name!r} is given twice")
        plans.append(StrategyPlan(strategy, tuple(strategy.split(text))))
    return plans

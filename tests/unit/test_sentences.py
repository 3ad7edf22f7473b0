"""Sentences of a text, and where each one sounds in a context's audio."""

from __future__ import annotations

import pytest

from flushscope.core.analysis.sentence_spans import Sentence, context_words, sentence_span, sentences
from flushscope.core.model.records import Context
from session_wire import AUDIO, Wire

TEXT = "Hello there, my friend.  How are you today? I hope that all is well."


def timed(wire: Wire, flush_id: int, words: list[tuple[str, float, float]]) -> None:
    wire.recv(
        {"type": "timestamps", "context_id": "a", "status_code": 206, "done": False, "flush_id": flush_id,
         "word_timestamps": {"words": [w for w, _, _ in words], "start": [s for _, s, _ in words],
                             "end": [e for _, _, e in words]}}
    )  # fmt: skip


def spoken(pieces: list[list[str]], seconds_per_word: float = 0.1) -> Context:
    """A context whose segments speak these words, one after another, each ``seconds_per_word`` long
    (the context's audio is long enough for all of them)."""
    wire = Wire()
    for words in pieces:
        wire.send("a", " ".join(words) + " ")
        wire.flush("a")
    at = 0.0
    for n, words in enumerate(pieces, 1):
        for _ in range(len(words)):
            wire.chunk("a", n, AUDIO)  # 0.1 s each
        timed(
            wire,
            n,
            [(w, at + i * seconds_per_word, at + (i + 1) * seconds_per_word) for i, w in enumerate(words)],
        )
        at += len(words) * seconds_per_word
        wire.flush_done("a", n)
    return wire.session.contexts[0]


def test_a_text_is_cut_into_its_sentences_with_their_places() -> None:
    found = sentences(TEXT)
    assert [s.text for s in found] == [
        "Hello there, my friend.",
        "How are you today?",
        "I hope that all is well.",
    ]
    assert all(TEXT[s.start : s.end] == s.text for s in found)
    assert sentences("  ...  ") == []
    assert sentences("No end") == [Sentence("No end", 0, 6)]


def test_each_sentence_spans_its_words_whichever_segments_carried_them() -> None:
    # The segments are cut elsewhere than the sentences: the second sentence spans two segments.
    ctx = spoken([["Hello", "there,", "my", "friend.", "How"], ["are", "you", "today?", "I", "hope"],
                  ["that", "all", "is", "well."]])  # fmt: skip
    assert len(context_words(ctx)) == 14
    first, second, third = sentences(TEXT)
    assert sentence_span(ctx, TEXT, first) == pytest.approx((0.0, 0.4))
    assert sentence_span(ctx, TEXT, second) == pytest.approx((0.4, 0.8))
    assert sentence_span(ctx, TEXT, third) == pytest.approx((0.8, 1.4))


def test_words_spoken_differently_are_aligned_with_the_text_first() -> None:
    text = "I have 3 cats. They sleep. Goodbye now."
    # "3" read out, and "now" not spoken at all.
    ctx = spoken([["I", "have", "three", "cats."], ["They", "sleep."], ["Goodbye."]])
    first, second, third = sentences(text)
    assert sentence_span(ctx, text, first) == pytest.approx((0.0, 0.4))
    assert sentence_span(ctx, text, second) == pytest.approx((0.4, 0.6))
    assert sentence_span(ctx, text, third) == pytest.approx((0.6, 0.7))


def test_no_word_timestamps_no_span() -> None:
    wire = Wire()
    wire.send("a", TEXT)
    wire.flush("a")
    wire.chunk("a", 1)
    ctx = wire.session.contexts[0]
    assert sentence_span(ctx, TEXT, sentences(TEXT)[0]) is None

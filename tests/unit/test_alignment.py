"""Word and phoneme timings from espeak-ng's events, matched to the transcript's tokens (no synthesis)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from flushscope.emulator.alignment import TimedToken, align_phonemes, align_words


def test_alignment_without_events_shares_the_whole_audio() -> None:
    words = align_words("... !", [], 400, 1000)

    assert [(w.text, w.start, w.end) for w in words] == [("...", 0.0, 0.3), ("!", 0.3, 0.4)]


def test_blank_text_has_no_words() -> None:
    assert align_words("", [(1, 0)], 400, 1000) == ()
    assert align_words(" \n\t ", [(1, 0)], 400, 1000) == ()


def test_alignment_clamps_out_of_range_and_backwards_events() -> None:
    events = [(0, -50), (7, 1000), (3, 500), (99, 99999)]
    words = align_words("one two three", events, 4410, 22050)

    assert [(w.text, w.start, w.end) for w in words] == [
        ("one", 0.0, 1000 / 22050),
        ("two", 1000 / 22050, 4410 / 22050),
        ("three", 4410 / 22050, 4410 / 22050),
    ]


def test_alignment_gives_unspoken_words_a_share_of_the_previous_word() -> None:
    words = align_words("U.S.A. e-mail don't", [(1, 0), (15, 1200)], 2000, 1000)

    assert [(w.text, w.start, w.end) for w in words] == [
        ("U.S.A.", 0.0, 0.6),
        ("e-mail", 0.6, 1.2),
        ("don't", 1.2, 2.0),
    ]


def test_a_word_reported_at_silent_punctuation_moves_to_the_next_word() -> None:
    # espeak-ng reports "b" at the dash before it.
    words = align_words("a - b", [(1, 0), (3, 500)], 1000, 1000)

    assert [(w.text, w.start, w.end) for w in words] == [("a", 0.0, 0.5), ("-", 0.5, 0.5), ("b", 0.5, 1.0)]


def test_an_event_in_whitespace_belongs_to_the_token_before() -> None:
    words = align_words("ab  cd", [(1, 0), (3, 300), (5, 600)], 1000, 1000)

    assert [(w.text, w.start, w.end) for w in words] == [("ab", 0.0, 0.6), ("cd", 0.6, 1.0)]


def test_phoneme_alignment_skips_pauses_but_ends_at_them() -> None:
    phonemes = align_phonemes([(0, "h"), (100, "ə"), (250, ""), (300, "l")], 400, 1000)

    assert [(p.text, p.start, p.end) for p in phonemes] == [
        ("h", 0.0, 0.1),
        ("ə", 0.1, 0.25),
        ("l", 0.3, 0.4),
    ]


def test_phoneme_alignment_clamps_backwards_and_late_events() -> None:
    phonemes = align_phonemes([(200, "a"), (100, "b"), (900, "c")], 500, 1000)

    assert [(p.text, p.start, p.end) for p in phonemes] == [("a", 0.2, 0.2), ("b", 0.2, 0.5), ("c", 0.5, 0.5)]


def assert_tiles(tokens: tuple[TimedToken, ...], first: float, last: float) -> None:
    """Tokens one after another with no gap or overlap, from ``first`` to ``last``."""
    assert tokens[0].start == first
    assert tokens[-1].end == last
    for token in tokens:
        assert token.start <= token.end
    for previous, token in itertools.pairwise(tokens):
        assert previous.end == token.start, (previous, token)


TEXT = st.text(st.sampled_from("ab -.,!?&é😀\n"), max_size=30)


@given(
    text=TEXT,
    events=st.lists(st.tuples(st.integers(-3, 40), st.integers(-100, 3000)), max_size=12),
    total=st.integers(0, 2000),
    rate=st.sampled_from([1000, 22050]),
)
def test_every_token_once_in_order_tiling_the_audio(
    text: str, events: list[tuple[int, int]], total: int, rate: int
) -> None:
    words = align_words(text, events, total, rate)

    assert [w.text for w in words] == text.split()
    if words:
        # Tokens before the first event get no time of their own; from there on they tile the audio.
        assert_tiles(words, words[0].start, total / rate)
        assert 0.0 <= words[0].start <= total / rate
        if not events:
            assert words[0].start == 0.0


@given(
    events=st.lists(
        st.tuples(st.integers(-100, 3000), st.sampled_from(["a", "ə", "", " ", "tʃ"])), max_size=12
    ),
    total=st.integers(0, 2000),
)
def test_phonemes_keep_order_and_stay_inside_the_audio(events: list[tuple[int, str]], total: int) -> None:
    phonemes = align_phonemes(events, total, 1000)

    assert [p.text for p in phonemes] == [name for _sample, name in events if name.strip()]
    for previous, phoneme in itertools.pairwise(phonemes):
        assert previous.end <= phoneme.start
    for phoneme in phonemes:
        assert 0.0 <= phoneme.start <= phoneme.end <= total / 1000

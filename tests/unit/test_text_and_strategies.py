"""How text is judged (words, joins, sentence ends) and how flush strategies cut it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flushscope.core.analysis.lint_ids import LintId, parse_lint_ids
from flushscope.core.analysis.lints import RULES, rule_text
from flushscope.core.inputs.strategies import StrategyError, StrategyKind, parse_strategy, plan_strategies
from flushscope.core.inputs.text_shape import ends_sentence, has_words, runs_together, word_count


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Hello", "world."),
        ("Hello there.", "How are you?"),
        ("Well,", "maybe"),
        ("It costs 5", "dollars"),
        ('He said "hi."”', "Then"),
        ("Look", "(there)"),
        ("Привет", "мир"),
        ("안녕", "세상"),  # Korean is written with spaces
    ],
)
def test_joins_that_run_words_together(before: str, after: str) -> None:
    assert runs_together(before, after)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Hello ", "world."),
        ("Hello", " world."),
        ("Hello", ", world."),
        ("Hello", "."),
        ("don", "'t"),
        ("well-", "known"),
        ("and/", "or"),
        ("3.", "14"),
        ("10:", "30"),
        ("你好。", "世界"),
        ("Hello", "世界"),
        ("こんにちは", "World"),
        ("สวัสดี", "ครับ"),
        ("Hello", ""),
        ("", "world"),
        ("(", "see"),
        ("Hello", ")"),
    ],
)
def test_joins_that_read_as_sent(before: str, after: str) -> None:
    assert not runs_together(before, after)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Hello", 1),
        ("Hello world.", 2),
        (" ... ", 0),
        ("", 0),
        ("It's 5 o'clock", 3),
        ("你好", 1),
        ("你好世界", 2),
        ("iPhoneを買った", 3),
        ("— well —", 1),
    ],
)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count


def test_sentence_ends_and_words() -> None:
    assert ends_sentence("Hi. ") and ends_sentence('"Really?" ') and ends_sentence("好。")
    assert not ends_sentence("Hi,") and not ends_sentence("") and not ends_sentence("Hello")
    assert has_words("a") and has_words("4") and has_words("好")
    assert not has_words(" ") and not has_words("...!?") and not has_words("")


TEXT = "  Hello there, my friend. How are you today? I am fine…  Thanks! "


@pytest.mark.parametrize(
    ("spec", "pieces"),
    [
        ("sentence", ["  Hello there, my friend. ", "How are you today? ", "I am fine…  ", "Thanks! "]),
        (
            "punctuation",
            ["  Hello there, ", "my friend. ", "How are you today? ", "I am fine…  ", "Thanks! "],
        ),
        ("words=4", ["  Hello there, my friend. ", "How are you today? ", "I am fine…  Thanks! "]),
        ("one", [TEXT]),
        (
            "Hello there,|my friend. How are you|today? I am fine… Thanks!",
            ["  Hello there, ", "my friend. How are you ", "today? I am fine…  Thanks! "],
        ),
        ("custom=Hello there, my friend.|How are you today? I am fine… Thanks!", None),
    ],
)
def test_strategies_cut_the_text_and_keep_every_character(spec: str, pieces: list[str] | None) -> None:
    cut = parse_strategy(spec).split(TEXT)
    if pieces is not None:
        assert cut == pieces
    assert "".join(cut) == TEXT
    assert all(piece.strip() for piece in cut)
    # Nothing runs together: every piece but the last ends with the text's own whitespace.
    assert all(piece[-1].isspace() for piece in cut[:-1])


def test_sentences_of_unspaced_scripts_and_numbers() -> None:
    assert parse_strategy("sentence").split("你好。世界！再见") == ["你好。", "世界！", "再见"]
    assert parse_strategy("sentence").split("Pi is 3.14 roughly. Yes.") == ["Pi is 3.14 roughly. ", "Yes."]
    assert parse_strategy("punctuation").split("你好，世界。") == ["你好，", "世界。"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("words=0", "at least 1"),
        ("words=x", "whole number"),
        ("paragraph", "unknown strategy"),
        ("a||b", "empty piece"),
        ("|a", "empty piece"),
    ],
)
def test_bad_strategies_are_named(spec: str, message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        parse_strategy(spec)


def test_plans_refuse_a_text_without_words_a_wrong_split_and_twins() -> None:
    with pytest.raises(StrategyError, match="no words"):
        plan_strategies("...", ["one", "sentence"])
    with pytest.raises(StrategyError, match="does not spell the text"):
        plan_strategies("Hello there.", ["one", "Hello|where."])
    with pytest.raises(StrategyError, match="given twice"):
        plan_strategies("Hello there.", ["words=2", "WORDS=2"])
    plans = plan_strategies("Hello there. Bye.", ["Sentence", "custom=Hello|there. Bye."])
    assert [(p.name, p.strategy.kind, p.pieces) for p in plans] == [
        ("sentence", StrategyKind.SENTENCE, ("Hello there. ", "Bye.")),
        ("custom=Hello|there. Bye.", StrategyKind.CUSTOM, ("Hello ", "there. Bye.")),
    ]


@given(
    st.text(alphabet=st.sampled_from(list("ab ,.!?\n。你")), min_size=1, max_size=40).filter(has_words),
    st.sampled_from(["sentence", "punctuation", "words=1", "words=3", "one"]),
)
def test_any_cut_spells_the_text(text: str, spec: str) -> None:
    pieces = parse_strategy(spec).split(text)
    assert "".join(pieces) == text
    assert all(piece.strip() for piece in pieces)


def test_every_lint_has_a_rule_in_words_and_ids_are_checked() -> None:
    assert list(RULES) == list(LintId)
    for lint_id in LintId:
        assert len(rule_text(lint_id)) > 100, lint_id
        assert "Not flagged" in rule_text(lint_id) or lint_id is LintId.PUNCTUATION_ONLY_FIRST_INPUT
    assert parse_lint_ids(["empty-flush", " short-segment"]) == {LintId.EMPTY_FLUSH, LintId.SHORT_SEGMENT}
    with pytest.raises(ValueError, match="no lint named 'empty_flush'; the lints are: continuation-no-space"):
        parse_lint_ids(["empty_flush"])

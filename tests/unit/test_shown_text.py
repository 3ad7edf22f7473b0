"""Text from files and frames is shown, never obeyed: which characters are escaped, and how."""

from __future__ import annotations

import io
import json

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flushscope.cli.errors import print_error
from flushscope.core.shown_text import escaped, escaped_lines, json_shown, quoted
from flushscope.dataset.results import write_json, write_table

UNSAFE = [
    chr(c)
    for c in [
        *range(0x20),
        *range(0x7F, 0xA0),
        0x2028,
        0x2029,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0xD800,
        0xDFFF,
    ]
]


@pytest.mark.parametrize("ch", UNSAFE)
def test_every_unsafe_character_is_written_as_its_escape(ch: str) -> None:
    shown = escaped(f"a{ch}b")
    assert shown.startswith("a\\") and shown.endswith("b")
    assert shown.isascii() and shown.isprintable()


def test_the_escapes_read_as_python_writes_them() -> None:
    assert escaped("\x1b]0;title\x07\x1b[2J") == "\\x1b]0;title\\x07\\x1b[2J"
    assert escaped("tab\there\nnew\rret") == "tab\\there\\nnew\\rret"
    assert escaped("\x9b\x7f\u202e\u2066\ud800") == "\\x9b\\x7f\\u202e\\u2066\\ud800"


def test_other_languages_and_emoji_stay_as_they_are() -> None:
    text = "Grüße, 東京, مرحبا, 😀 — « ok »"
    assert escaped(text) is text


def test_lines_keep_their_breaks_and_nothing_else() -> None:
    assert escaped_lines("one\x1b[2J\ntwo\u202e\r") == "one\\x1b[2J\ntwo\\u202e\\r"


@given(
    st.recursive(st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=8)
)
def test_json_shown_is_the_same_json_and_safe(value: object) -> None:
    text = json_shown(json.dumps(value, indent=2, ensure_ascii=False))
    assert json.loads(text) == value
    assert escaped_lines(text) == text


def test_quoted_cuts_and_escapes() -> None:
    assert quoted("a\x1bb") == "'a\\x1bb'"
    assert quoted("x" * 50, 10) == repr("x" * 9 + "…")


def test_an_error_is_printed_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    print_error("bad.jsonl: \x1b]0;owned\x07 and \u202egnp.exe")
    assert capsys.readouterr().err == "flushscope: bad.jsonl: \\x1b]0;owned\\x07 and \\u202egnp.exe\n"


def test_a_dataset_table_shows_text_escaped_and_json_stays_json() -> None:
    with duckdb.connect() as con:
        query = "select chr(27) || ']0;owned' || chr(7) as \"na\u202eme\", 'é' as b"
        out = io.StringIO()
        write_table(con.execute(query), out)
        assert "\\x1b]0;owned\\x07" in out.getvalue() and "na\\u202eme" in out.getvalue()
        out = io.StringIO()
        write_json(con.execute(query), out)
        assert json.loads(out.getvalue()) == [{"na\u202eme": "\x1b]0;owned\x07", "b": "é"}]
        assert escaped_lines(out.getvalue()) == out.getvalue()

"""How transcript text looks to a speech service: words, sentence ends, and where two inputs run together.

Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan) are
told apart by code point: two inputs meeting on such a character need no space, and their words are
counted as one per two characters (a rough size, enough to tell a fragment from a phrase).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: Code point ranges of scripts written without spaces between words, and of their punctuation.
_UNSPACED: Final[tuple[tuple[int, int], ...]] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x30FF),  # CJK symbols and punctuation, Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # half- and full-width forms (full-width punctuation)
    (0x20000, 0x3FFFF),  # CJK extensions B and beyond
)

#: Sentence ends, in the scripts the service speaks.
SENTENCE_END: Final = frozenset(".!?…。！？")
#: Punctuation after which a word needs a space before the next one.
_SPACE_AFTER: Final = frozenset(".,;:!?…")
#: What may trail a sentence end before the space: closing quotes and brackets.
_CLOSERS: Final = frozenset("\"')]}»”’")


_ASCII_WORD: Final = re.compile("[A-Za-z0-9]")


def unspaced(ch: str) -> bool:
    """Whether ``ch`` belongs to a script written without spaces between words."""
    point = ord(ch)
    return any(lo <= point <= hi for lo, hi in _UNSPACED)


def has_words(text: str) -> bool:
    """False for empty, whitespace-only and punctuation-only text (what the service rejects as a context's
    first input): a letter or a digit of any script is a word."""
    return any(ch.isalnum() for ch in text)


def word_count(text: str) -> int:
    """Words in ``text``: whitespace-separated tokens with a letter or digit, where a run of characters of
    an unspaced script counts one word per two characters (rounded up)."""
    if text.isascii():
        # No unspaced script in ASCII: a token counts once if it has a letter or a digit.
        return sum(1 for token in text.split() if _ASCII_WORD.search(token))
    count = 0
    for token in text.split():
        spaced = "".join(ch for ch in token if not unspaced(ch))
        dense = sum(1 for ch in token if unspaced(ch) and ch.isalnum())
        count += (1 if has_words(spaced) else 0) + (dense + 1) // 2
    return count


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with a sentence end (closing quotes, brackets and whitespace aside)."""
    body = text.rstrip()
    while body and body[-1] in _CLOSERS:
        body = body[:-1]
    return bool(body) and body[-1] in SENTENCE_END


def sentence_cut(text: str, start: int = 0) -> int:
    """Where ``text`` may be cut after its last sentence end that lies at or after ``start``: past the end,
    the closing quotes and brackets after it and the whitespace after those; 0 when there is none.

    A sentence end (:data:`SENTENCE_END`) counts when whitespace or the end of the text follows it, so that
    ``3.14`` and ``e.g.x`` are not cut inside; the full-width ``。！？`` count wherever they stand."""
    for index in range(len(text) - 1, start - 1, -1):
        if text[index] not in SENTENCE_END:
            continue
        end = index + 1
        while end < len(text) and text[end] in _CLOSERS:
            end += 1
        if end < len(text) and not text[end].isspace() and not unspaced(text[index]):
            continue
        while end < len(text) and text[end].isspace():
            end += 1
        return end
    return 0


def runs_together(before: str, after: str) -> bool:
    """Whether sending ``after`` right after ``before`` joins two words with no space between them.

    The join is flagged when ``before`` ends in a letter, digit, ``.,;:!?…`` or a closing quote or bracket,
    and ``after`` starts with a letter, digit or an opening quote or bracket. Not flagged: either side is
    whitespace; either character belongs to an unspaced script; ``after`` starts with punctuation that
    attaches to the word before it (``,``, ``.``, ``'s``, a closing bracket); ``before`` ends in a hyphen,
    slash, apostrophe or opening bracket; a number split at its separator (``3.`` + ``14``, ``10:`` +
    ``30``)."""
    if not before or not after:
        return False
    last, first = before[-1], after[0]
    if last.isspace() or first.isspace() or unspaced(last) or unspaced(first):
        return False
    first_kind = unicodedata.category(first)
    if not (first.isalnum() or first_kind in ("Ps", "Pi")):
        return False
    if last.isalnum():
        return True
    if last in ".,:" and first.isdigit():
        return False
    if last in "'’":
        return False  # an apostrophe: don' + t, or a closing single quote, which is too ambiguous to flag
    return last in _SPACE_AFTER or unicodedata.category(last) in ("Pe", "Pf")


def join_excerpt(before: str, after: str, width: int = 24) -> str:
    """The text either side of a join, as the service reads it, shortened to ``width`` characters a side."""
    head = before[-width:]
    tail = after[:width]
    return ("…" if len(before) > width else "") + head + tail + ("…" if len(after) > width else "")

"""Frame numbers in the text of a finding, as links: "frames 2 and 3", "frame 15", "frames 9, 14" become
``frame:N`` links that a label turns into a jump to that frame in the Frames tab."""

from __future__ import annotations

import html
import re
from typing import Final

#: The scheme of a link to a frame.
FRAME_SCHEME: Final = "frame"

# "frame 5", "frames 2,3", "frames 2 and 3", "frames 9, 14 and 20": the word, then numbers joined by commas
# and "and".
_CITED = re.compile(r"\b(frames?)\s+(\d+(?:\s*(?:,|and|, and)\s*\d+)*)")
_NUMBER = re.compile(r"\d+")


def frame_links(text: str) -> str:
    """``text`` as HTML (escaped, line breaks kept) with every frame number it cites as a link."""
    out: list[str] = []
    last = 0
    for match in _CITED.finditer(text):
        out.append(html.escape(text[last : match.start(2)]))
        numbers = match.group(2)
        at = 0
        for number in _NUMBER.finditer(numbers):
            out.append(html.escape(numbers[at : number.start()]))
            out.append(f'<a href="{FRAME_SCHEME}:{number.group()}">{number.group()}</a>')
            at = number.end()
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out).replace("\n", "<br>")


def frame_of_link(link: str) -> int | None:
    """The frame a link made by :func:`frame_links` points to (None: another kind of link)."""
    scheme, _, rest = link.partition(":")
    return int(rest) if scheme == FRAME_SCHEME and rest.isdigit() else None

"""Frame numbers in a finding's text become links to the frame."""

from __future__ import annotations

import pytest

from flushscope.ui.look.frame_links import frame_links, frame_of_link


@pytest.mark.parametrize(
    ("text", "frames"),
    [
        ("Inputs at frames 2 and 3 of context a meet", [2, 3]),
        ("The flush at frame 5 of context b closes segment 2 (frame 4).", [5, 4]),
        ("frames 9, 14 and 20", [9, 14, 20]),
        ("frames 2,3: short", [2, 3]),
        ("segment 2 of context 3, 7 chunks", []),
    ],
)
def test_the_frames_cited_become_links_and_nothing_else_does(text: str, frames: list[int]) -> None:
    html = frame_links(text)
    linked = [frame_of_link(part.split('"')[0]) for part in html.split('href="')[1:]]
    assert linked == frames


def test_the_rest_of_the_text_is_escaped_and_lines_kept() -> None:
    html = frame_links("it reads 'a<b>' at frame 1\nWhat to do: <nothing>")
    assert "&lt;b&gt;" in html and "<br>" in html and "&lt;nothing&gt;" in html
    assert '<a href="frame:1">1</a>' in html
    assert frame_of_link("https://example.com") is None and frame_of_link("frame:x") is None

"""docs/ARCHITECTURE.md names every module and every benchmark, so a newcomer finds each room from it.

A module's file name must be written in backquotes (alone or at the end of a path) at least as many times as
there are modules of that name: ``compare.py`` lives in four rooms, and each room must list its own.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def _mentions(name: str) -> int:
    return len(re.findall(r"[`/]" + re.escape(name) + "`", DOC))


def _short(names: Counter[str]) -> list[str]:
    return sorted(
        f"{name} (named {_mentions(name)} of {count} times)"
        for name, count in names.items()
        if _mentions(name) < count
    )


def test_every_module_is_on_the_page() -> None:
    names = Counter(p.name for p in (ROOT / "app" / "flushscope").rglob("*.py") if p.name != "__init__.py")
    assert len(names) > 100
    assert _short(names) == []


def test_every_benchmark_is_on_the_page() -> None:
    names = Counter(p.name for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
    assert names
    assert _short(names) == []


def test_a_missing_module_is_found() -> None:
    assert _mentions("no_such_module.py") == 0
    assert _mentions("session.py") >= 1

"""The ids of the send-side lints (:mod:`flushscope.core.analysis.lints`), apart from the rules so that a command
line can list and check them without loading the session model."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class LintId(StrEnum):
    """The stable id of each lint (what ``--no-lint`` takes)."""

    CONTINUATION_NO_SPACE = "continuation-no-space"
    SHORT_SEGMENT = "short-segment"
    CONTEXT_NEVER_ENDED = "context-never-ended"
    EMPTY_FLUSH = "empty-flush"
    FLUSH_AFTER_END = "flush-after-end"
    PUNCTUATION_ONLY_FIRST_INPUT = "punctuation-only-first-input"
    SETTINGS_CHANGED_MID_CONTEXT = "settings-changed-mid-context"
    TIMESTAMPS_MISSING = "timestamps-missing"


class LintIdError(ValueError):
    """A lint id that does not exist; the message names the ones that do."""


def parse_lint_ids(names: Iterable[str]) -> frozenset[LintId]:
    """Lint ids from their names; raises :class:`LintIdError` naming any unknown one and the known ones."""
    ids: set[LintId] = set()
    for name in names:
        try:
            ids.add(LintId(name.strip()))
        except ValueError:
            known = ", ".join(i.value for i in LintId)
            raise LintIdError(f"no lint named {name!r}; the lints are: {known}") from None
    return frozenset(ids)

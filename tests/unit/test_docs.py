"""The scenario examples a user copies from the README and resources/ must parse, and the README says
what the code does."""

from __future__ import annotations

from pathlib import Path

import pytest

from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.analysis.lints import rule_text
from flushscope.core.inputs.scenario import Send, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_readme_scenario_example_parses() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("one step a line")[1].split("```")[1]
    scenario = parse_scenario(block, "README.md")
    assert [s.text for s in scenario.steps if isinstance(s, Send)] == ["Hello there.", "How are you? "]


@pytest.mark.parametrize(
    "path", sorted((ROOT / "resources" / "scenarios").glob("*.txt")), ids=lambda p: p.name
)
def test_shipped_scenarios_parse(path: Path) -> None:
    assert load_scenario(path).steps


def test_readme_states_the_joining_rule_in_the_lints_words() -> None:
    rule = rule_text(LintId.CONTINUATION_NO_SPACE).split("\n\n")[1]
    readme = (ROOT / "README.md").read_text()
    assert " ".join(rule.split()) in " ".join(readme.split())

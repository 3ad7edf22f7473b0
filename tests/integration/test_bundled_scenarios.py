"""The bundled scenarios show good practice: played through the embedded emulator by the project's runner,
each raises exactly the lints its comments announce (``# shows lint: ID ...``, one line per lint), and
no anomaly."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rig_support import TIMEOUT

from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.inputs.scenario import load_scenario
from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.net.runner import run_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "resources" / "scenarios").glob("*.txt"))
_ANNOUNCED = re.compile(r"^#\s*shows lint:\s*([a-z-]+)", re.MULTILINE)


def announced(path: Path) -> Counter[str]:
    return Counter(_ANNOUNCED.findall(path.read_text(encoding="utf-8")))


def test_there_are_scenarios_and_one_announces_a_lint() -> None:
    assert SCENARIOS and any(announced(path) for path in SCENARIOS)


@pytest.mark.asyncio
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
async def test_a_bundled_scenario_raises_only_the_lints_it_announces(tmp_path: Path, path: Path) -> None:
    result = await run_scenario(
        load_scenario(path),
        tmp_path / "run.fscap.jsonl",
        None,
        EmulatorConfig(pacing=Pacing.instant()),
        timeout=TIMEOUT,
    )
    assert result.settled
    assert result.session.anomalies == []
    raised = Counter(lint.id.value for lint in lint_session(result.session))
    assert raised == announced(path)

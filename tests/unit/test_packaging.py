"""pyproject lists packages by hand (resources/ sits outside app/): every package must be on the list."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    app = ROOT / "app"
    found = {
        ".".join(init.parent.relative_to(app).parts)
        for init in app.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "flushscope._resources" in listed

"""Finding the files under ``resources/`` (icon, .desktop file, example scenarios) wherever flushscope runs.

They live in three places depending on how flushscope was installed:

- a PyInstaller bundle: under ``sys._MEIPASS``, in ``flushscope/_resources/`` (the package-data layout) or
  ``resources/`` (a spec that copies the folder as it is);
- an installed wheel: package data in ``flushscope/_resources/`` next to this module;
- the source tree (an editable install, or running from a checkout): ``resources/`` at the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

#: The folder inside the package that holds the resources in a wheel (see pyproject's package-dir).
PACKAGE_FOLDER: Final = "_resources"

_HERE = Path(__file__).resolve().parent


def resource_roots() -> list[Path]:
    """The folders searched, in order."""
    roots: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots += [Path(bundle) / "flushscope" / PACKAGE_FOLDER, Path(bundle) / "resources"]
    roots.append(_HERE / PACKAGE_FOLDER)
    # app/flushscope/resources.py -> the repository root is two levels above the package.
    roots.append(_HERE.parent.parent / "resources")
    return roots


def resource_path(name: str) -> Path:
    """The path of the resource ``name`` (``"flushscope.svg"``, ``"scenarios/three-contexts.txt"``).

    Raises FileNotFoundError, naming every folder searched, when it is nowhere.
    """
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"a resource name is relative and stays inside the resources: {name!r}")
    roots = resource_roots()
    for root in roots:
        candidate = root / relative
        if candidate.exists():
            return candidate
    searched = ", ".join(str(root) for root in roots)
    raise FileNotFoundError(f"resource {name!r} not found (searched {searched})")

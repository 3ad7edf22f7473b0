"""The core stays in small pieces: no module over 600 lines, no function over 80 (decorators included), so
that each part can be read whole."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "app" / "flushscope" / "core"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def oversized(folder: Path) -> list[str]:
    """Every module of ``folder`` (and below) over the module limit and every function over the function
    limit, nested ones included, as ``path: what (lines)``."""
    found: list[str] = []
    for path in sorted(folder.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(folder.parent).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{where}: module ({lines} lines)")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                assert node.end_lineno is not None
                length = node.end_lineno - first + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{where}: {node.name}() ({length} lines)")
    return found


def test_core_modules_and_functions_stay_within_their_limits() -> None:
    assert oversized(CORE) == []


def test_a_long_module_and_long_functions_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "core"
    (folder / "room").mkdir(parents=True)
    body = "".join(f"    x{i} = {i}\n" for i in range(79))
    (folder / "room" / "fits.py").write_text(f"def fits():\n{body}")
    (folder / "room" / "long.py").write_text(
        f"@staticmethod\ndef decorated():\n{body}\n\nclass Holder:\n    async def inner(self):\n"
        + body.replace("    ", "        ")
        + "        x = 1\n"
    )
    (folder / "big.py").write_text("x = 1\n" * 601)
    assert oversized(folder) == [
        "core/big.py: module (601 lines)",
        "core/room/long.py: decorated() (81 lines)",
        "core/room/long.py: inner() (81 lines)",
    ]

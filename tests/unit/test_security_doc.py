"""docs/SECURITY.md's attack table is the one generated from the attack tests' docstrings."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("attack_table", ROOT / "scripts" / "attack_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["attack_table"] = module
    spec.loader.exec_module(module)
    return module


attack_table = _script()


def test_security_md_lists_every_attack_test() -> None:
    # GIVEN every test function in tests/attacks/test_attacks_*.py
    names = {
        node.name
        for path in (ROOT / "tests" / "attacks").glob("test_attacks_*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    assert names
    # THEN SECURITY.md names each one, and its table is exactly the generated one
    doc = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    missing = sorted(name for name in names if f"`{name}`" not in doc)
    assert not missing, f"run scripts/attack_table.py --write; missing: {missing}"
    assert attack_table.main(["--check"]) == 0


def test_an_attack_test_without_its_docstring_is_refused(tmp_path: Path) -> None:
    # GIVEN an attack file whose test has no "attack → outcome" docstring
    (tmp_path / "test_attacks_x.py").write_text('def test_a():\n    """Just a test."""\n', encoding="utf-8")
    # WHEN the table is generated THEN the test is named as the problem
    with pytest.raises(attack_table.DocstringError, match=re.escape("test_attacks_x.py::test_a")):
        attack_table.all_attacks(tmp_path)


def test_rows_carry_attack_outcome_and_cases(tmp_path: Path) -> None:
    (tmp_path / "test_attacks_y.py").write_text(
        "import pytest\nVALUES = {'a': 1, 'b': 2, 'c': 3}\n\n"
        "@pytest.mark.parametrize('v', sorted(VALUES))\n"
        "def test_b(v):\n    \"\"\"Pipe | in a value → refused.\"\"\"\n",
        encoding="utf-8",
    )
    table = attack_table.table(attack_table.all_attacks(tmp_path))
    assert "| y | Pipe \\| in a value | refused | 3 | `test_b` |" in table

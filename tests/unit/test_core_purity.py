"""The pure core loads no AWS SDK, LLM client or Powertools, and reads no environment.

The core is what import-linter's "pure-core" contract in pyproject.toml names (read from there, so the
list is stated once): each of its modules is imported in a fresh interpreter and the forbidden packages
must not be in `sys.modules` afterwards, which catches an import anywhere down the chain, not just in
the module's own source.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "shared"
FORBIDDEN_OS = frozenset({"environ", "getenv", "environb", "getenvb", "putenv", "unsetenv"})


def _contract() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c.get("id") == "pure-core")


CORE = tuple(_contract()["source_modules"])
FORBIDDEN = tuple(sorted(m for m in _contract()["forbidden_modules"] if not m.startswith("versa.")))


def core_modules() -> list[str]:
    """Every module of the core: the named packages' modules (recursively) and the named modules."""
    found: list[str] = []
    for name in CORE:
        path = SHARED.joinpath(*name.split("."))
        if path.is_dir():
            for file in sorted(path.rglob("*.py")):
                parts = list(file.relative_to(SHARED).with_suffix("").parts)
                found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        else:
            assert path.with_suffix(".py").is_file(), f"{name} names no module under shared/"
            found.append(name)
    return found


_PROBE = """
import importlib, json, sys
forbidden = set(sys.argv[1].split(","))
loaded = {}
for module in sys.argv[2:]:
    before = set(sys.modules)
    importlib.import_module(module)
    new = {m.split(".")[0] for m in set(sys.modules) - before} & forbidden
    if new:
        loaded[module] = sorted(new)
print(json.dumps(loaded))
"""


def forbidden_loaded(modules: list[str]) -> dict[str, list[str]]:
    """Module -> the forbidden packages importing it pulled in, from one fresh interpreter (modules
    imported in order; a package is blamed on the first module that loads it)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(FORBIDDEN), *modules],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    result: dict[str, list[str]] = json.loads(out)
    return result


def environment_reads(tree: ast.AST) -> list[str]:
    """Uses of the process environment (os.environ, os.getenv, ...), with line numbers."""
    found: list[str] = []
    os_names = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names |= {alias.asname or "os" for alias in node.names if alias.name == "os"}
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"line {node.lineno}: from os import {a.name}" for a in node.names if a.name in FORBIDDEN_OS]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in FORBIDDEN_OS
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_the_core_is_the_whole_core() -> None:
    # GIVEN the contract's list / WHEN expanded to modules
    modules = core_modules()
    # THEN it reaches every room of the request path's core, and forbids what the brief forbids
    for expected in ("versa.pack.loader", "versa.render.engine", "versa.decide.rules", "versa.web.service"):
        assert expected in modules
    assert set(FORBIDDEN) == {"boto3", "botocore", "openai", "aws_lambda_powertools"}


def test_the_probe_catches_a_module_that_loads_the_sdk() -> None:
    # GIVEN an adapter that imports botocore at module level, after a core module
    # WHEN probed like the core
    found = forbidden_loaded(["versa.errors", "versa.adapters.s3_packs"])
    # THEN the adapter is blamed for the SDK and the core module for nothing
    assert "versa.errors" not in found
    assert "botocore" in found["versa.adapters.s3_packs"]


def test_importing_the_core_loads_no_sdk_llm_client_or_powertools() -> None:
    # GIVEN every core module / WHEN each is imported in a fresh interpreter
    found = forbidden_loaded(core_modules())
    # THEN none of boto3, botocore, openai or aws_lambda_powertools was loaded along the way
    assert found == {}


def test_the_environment_check_catches_what_it_looks_for() -> None:
    # GIVEN code reading the environment three ways / WHEN checked / THEN each is reported
    bad = ast.parse("import os as o\nx = o.environ['A']\nfrom os import getenv\ny = o.getenv('B')\n")
    assert len(environment_reads(bad)) == 3


@pytest.mark.parametrize("module", core_modules())
def test_core_module_reads_no_environment(module: str) -> None:
    # GIVEN a core module's source (settings come from versa.settings, built by the composition root)
    path = SHARED.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    # WHEN its attribute accesses are inspected / THEN it never touches os.environ or os.getenv
    assert environment_reads(ast.parse(path.read_text(encoding="utf-8"))) == [], str(path)

"""The pure core imports no AWS SDK or LLM client and reads no environment (checked on the source)."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE_MODULES = (
    "versa.context.attributes",
    "versa.context.clients",
    "versa.context.resolve",
    "versa.context.model",
    "versa.context.headers",
    "versa.web.http",
    "versa.decide.keys",
    "versa.context.negotiation",
    "versa.pack.conditions",
    "versa.pack.model",
    "versa.context.params",
    "versa.decide.rules",
    "versa.signing.signer",
    "versa.context.timefeatures",
    "versa.signing.urls",
    "versa.decide.variants",
)
FORBIDDEN_PACKAGES = frozenset({"boto3", "botocore", "openai"})
FORBIDDEN_OS = frozenset({"environ", "getenv", "environb", "getenvb", "putenv", "unsetenv"})


def source_of(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin)


def violations(tree: ast.AST) -> list[str]:
    """Imports of forbidden packages and any use of the process environment, with line numbers."""
    found: list[str] = []
    os_names = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_PACKAGES:
                    found.append(f"line {node.lineno}: import {alias.name}")
                if alias.name == "os":
                    os_names.add(alias.asname or "os")
        elif isinstance(node, ast.ImportFrom):
            package = (node.module or "").split(".")[0]
            if package in FORBIDDEN_PACKAGES:
                found.append(f"line {node.lineno}: from {node.module} import ...")
            if node.module == "os":
                found += [f"line {node.lineno}: from os import {a.name}" for a in node.names if a.name in FORBIDDEN_OS]
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_OS:
            if isinstance(node.value, ast.Name) and node.value.id in os_names:
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            found.append(f"line {node.lineno}: __import__(...)")
    return found


def test_the_checker_catches_what_it_looks_for() -> None:
    # GIVEN code doing each forbidden thing
    bad = ast.parse(
        "import boto3\nfrom botocore.config import Config\nimport openai.types\nimport os as o\n"
        "x = o.environ['A']\nfrom os import getenv\ny = o.getenv('B')\nz = __import__('boto3')\n"
    )

    # WHEN checked
    found = violations(bad)

    # THEN every one is reported
    assert len(found) == 7


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_sdk_and_reads_no_environment(module: str) -> None:
    # GIVEN a core module's source
    path = source_of(module)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    # WHEN its imports and attribute accesses are inspected
    found = violations(tree)

    # THEN it neither imports boto3/botocore/openai nor touches os.environ / os.getenv
    assert found == [], f"{path}: {found}"


def test_importing_the_rules_engine_pulls_in_no_sdk() -> None:
    # GIVEN a fresh interpreter
    code = (
        "import sys, json, versa.decide.rules, versa.decide.variants, versa.context.resolve, versa.signing.signer, versa.decide.keys\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'openai'})))"
    )

    # WHEN the core is imported
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    # THEN no AWS SDK or LLM client module was loaded along the way
    assert json.loads(out) == []

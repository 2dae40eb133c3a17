"""Pack issues as tests compare them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any


def unlocated(issues: Iterable[Any]) -> list[str]:
    """Issues as printed lines without their pack.yaml line and column (tests of the wording), after
    checking that every issue with a path in pack.yaml was given its place in the file."""
    issues = list(issues)
    missing = [
        str(i)
        for i in issues
        if i.file == "pack.yaml" and i.path and not i.path.startswith("line ") and i.line is None
    ]
    assert not missing, f"issues without a line and column: {missing}"
    return [str(replace(i, line=None, column=None)) for i in issues]

"""The Jinja2 sandbox every pack template is compiled and run in, with the cheap amplifiers bounded.

Jinja2's `SandboxedEnvironment` stops attribute escapes (``__class__``, ``__globals__``) and bounds
`range`, but a one-line template can still ask for gigabytes: ``{{ 'x' * 10**9 }}``,
``{{ 'x'|center(10**9) }}``, ``{{ '%0999999999d'|format(1) }}``, ``{{ lipsum(10**6) }}``. A pack
author is trusted to design, not to take the renderer down, so `BoundedSandbox` refuses any of these
that would build more than `MAX_BUILT` characters or items (the same for str's own `center`, `ljust`,
`rjust`, `zfill`, `expandtabs` and `format` called as methods) (a `SecurityError`, which the renderers
turn into their fallback) and drops `lipsum`. Compiling matters too: Jinja2 folds constant
expressions while compiling, so a checker that compiles a pack's template in a plain sandbox builds
the gigabyte at load time; intercepted operators are not folded. It lives in `pack` because the
loader (which checks templates) and the renderers (which run them) both use it. What it cannot bound is composition (joining
many bounded strings, nested loops over bounded ranges): the render budget and the page output cap
bound what is answered there, not what a hostile template may compute; `versa validate` and review
before publishing are the defence against a pack author who tries.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sized
from typing import Any, Final

from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_BUILT: Final = 100_000
"""Most characters (or items) one template operation may build."""
MAX_EXPONENT: Final = 64
"""Largest exponent `**` accepts (a bigger integer power costs time and memory for nothing)."""


def _length(value: Any) -> int:
    return len(value) if isinstance(value, Sized) else len(str(value))


def _bounded(what: str, size: int) -> None:
    if size > MAX_BUILT:
        raise SecurityError(f"{what} would build {size} characters or items; templates may build at most {MAX_BUILT}")


def _center(value: Any, width: int = 80) -> str:
    _bounded("center", int(width))
    return str(value).center(int(width))


def _indent(value: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    text = str(value)
    pad = width if isinstance(width, str) else " " * int(width)
    _bounded("indent", len(text) + len(pad) * (text.count("\n") + 1))
    lines = text.split("\n")
    out = [(pad + line) if (blank or line.strip()) and (first or i) else line for i, line in enumerate(lines)]
    return "\n".join(out)


_WIDTH = re.compile(r"[0-9]+")


def _check_format(spec: str) -> None:
    """Refuse a printf or str.format pattern whose widths or precisions exceed `MAX_BUILT` (checked
    before formatting, so the string is never built), or that takes a width from its arguments."""
    for number in _WIDTH.findall(spec):
        _bounded("a format width", int(number) if len(number) < 12 else MAX_BUILT + 1)
    if re.search(r"%[^a-zA-Z%]*\*", spec):
        raise SecurityError("a printf width taken from the arguments ('*') is refused in templates")


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    pattern = str(value)
    _check_format(pattern)
    return pattern % (kwargs or args)


_SIZED_STR_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class BoundedSandbox(SandboxedEnvironment):
    """`SandboxedEnvironment` whose `*`, `**` and `%`, and `center`, `indent` and `format` filters,
    refuse to build more than `MAX_BUILT` characters or items; no `lipsum` global."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.filters.update(center=_center, indent=_indent, format=_format)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Calls of str's padding and formatting methods are bounded like the filters."""
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") in _SIZED_STR_METHODS:
            for value in (*args, *kwargs.values()):
                if isinstance(value, int) and not isinstance(value, bool):
                    _bounded(__obj.__name__, value)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`str.format` and `format_map` as the sandbox wraps them, with the pattern's widths bounded."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _check_format(value.__self__)
        return wrapped

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    _bounded("*", len(seq) * max(times, 0))
        elif operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is over {MAX_EXPONENT}")
        elif operator_name == "%" and isinstance(left, str):
            _check_format(left)
        return {"*": operator.mul, "**": operator.pow, "%": operator.mod}[operator_name](left, right)


__all__ = ["MAX_BUILT", "BoundedSandbox"]

"""The Jinja2 sandbox every pack template is compiled and run in, with the cheap amplifiers bounded.

Jinja2's `SandboxedEnvironment` stops attribute escapes (``__class__``, ``__globals__``) and bounds
`range`, but a one-line template can still ask for gigabytes: ``{{ 'x' * 10**9 }}``,
``{{ 'x'|center(10**9) }}``, ``{{ '%0999999999d'|format(1) }}``, ``{{ lipsum(10**6) }}``. A pack
author is trusted to design, not to take the renderer down, so `BoundedSandbox` refuses (with a
`SecurityError`, which the renderers turn into their fallback) any single operation that would build
more than `MAX_BUILT` characters or items: `*`, `**`, `%`, the `center`, `indent` and `format` filters,
str's own padding methods and `str.format` widths; and it has no `lipsum`.

Compiling matters too: Jinja2 folds constant expressions while compiling, so a checker that compiles
a pack's template in a plain sandbox builds the gigabyte at load time; intercepted operators are not
folded. The module lives in `pack` because the loader (which checks templates) and the renderers
(which run them) both use it.

Every sandbox also carries the locale filters (`LOCALE_FILTERS`): `comma`, `number`, `datetime`,
`format_list` and `digits`, which read the template's `locale` (and `_digits`, the digits mode the
renderer resolved) so a template writes merge values, numbers and dates the viewer's way.

What it cannot bound is composition (joining many bounded strings, nested loops over bounded
ranges): the render budget and the page output cap bound what is answered, not what a hostile
template computes; review before publishing is the defence there.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from jinja2 import pass_context
from jinja2.exceptions import SecurityError, TemplateRuntimeError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from versa.context import locale as cldr

MAX_BUILT: Final = 100_000
"""Most characters (or items) one template operation may build."""
MAX_EXPONENT: Final = 64
"""Largest exponent `**` accepts (a bigger integer power costs time and memory for nothing)."""


def _bounded(what: str, size: int) -> None:
    if size > MAX_BUILT:
        raise SecurityError(f"{what} would build {size} characters or items; templates may build at most {MAX_BUILT}")


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|[0-9]+)?(?:\.(\*|[0-9]+))?[hlL]?[a-zA-Z%]")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
_NUMBER = re.compile(r"[0-9]+")


def _number(text: str) -> int:
    return int(text) if len(text) < 12 else MAX_BUILT + 1


def _check_format(pattern: str) -> None:
    """Refuse a printf or str.format pattern whose field widths or precisions exceed `MAX_BUILT`
    (checked before formatting, so nothing is built), or a printf width taken from the arguments."""
    for width, precision in _PRINTF.findall(pattern):
        if "*" in (width, precision):
            raise SecurityError("a printf width taken from the arguments ('*') is refused in templates")
        for number in (width, precision):
            if number:
                _bounded("a format width", _number(number))
    for spec in _BRACE_SPEC.findall(pattern):
        for number in _NUMBER.findall(spec):
            _bounded("a format width", _number(number))


def _bounded_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """Jinja2's own filter `name`, refusing first what would build more than `MAX_BUILT`."""

    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        if name == "format":
            _check_format(str(value))
        else:
            width = args[0] if args else kwargs.get("width", 80 if name == "center" else 4)
            if isinstance(width, int) and not isinstance(width, bool):
                lines = str(value).count("\n") + 1 if name == "indent" else 1
                _bounded(name, len(str(value)) + width * lines)
            elif isinstance(width, str):
                _bounded(name, len(str(value)) + len(width) * (str(value).count("\n") + 1))
        return original(value, *args, **kwargs)

    bounded.__name__ = f"bounded_{name}"
    return bounded


def _locale_of(context: Context) -> tuple[str, cldr.DigitsMode]:
    digits = context.get("_digits")
    return str(context.get("locale") or ""), digits if digits in ("latn", "native") else "latn"


def _locale_filter(function: Callable[..., str]) -> Callable[..., str]:
    """A filter given the template's locale and digits, its locale errors as template errors."""

    @pass_context
    def run(context: Context, value: Any, *args: Any) -> str:
        try:
            return function(value, *_locale_of(context), *args)
        except cldr.LocaleFormatError as exc:
            raise TemplateRuntimeError(str(exc)) from exc

    run.__name__ = function.__name__
    return run


def _comma(value: Any, locale: str, digits: cldr.DigitsMode) -> str:
    text = "" if value is None else str(value)
    return f"{text}{cldr.comma(locale)}" if text.strip() else ""


def _number_filter(value: Any, locale: str, digits: cldr.DigitsMode, pattern: str | None = None) -> str:
    if pattern is not None:
        _bounded("a number pattern", len(str(pattern)) * 10)
    return cldr.format_number(value, locale, digits, pattern)


def _datetime(value: Any, locale: str, digits: cldr.DigitsMode, spec: str = "") -> str:
    if not isinstance(value, datetime):
        raise cldr.LocaleFormatError(f"datetime filter needs a date-time with a zone, got {value!r}")
    return cldr.format_datetime(value, spec, locale, digits)


def _list(value: Any, locale: str, digits: cldr.DigitsMode, style: str = "standard") -> str:
    items = [value] if isinstance(value, str) else list(value)[:MAX_BUILT]
    return cldr.format_list(items, locale, style)


def _digits(value: Any, locale: str, digits: cldr.DigitsMode) -> str:
    return cldr.to_digits("" if value is None else str(value), locale, digits)


LOCALE_FILTERS: Final = {
    "comma": _locale_filter(_comma),
    "number": _locale_filter(_number_filter),
    "datetime": _locale_filter(_datetime),
    "format_list": _locale_filter(_list),
    "digits": _locale_filter(_digits),
}
"""`{{ name|comma }}` (the value and the locale's comma, or nothing when it is empty), `{{ n|number }}`
(`|number('#,##0.00')`), `{{ when|datetime('medium') }}` (the formats of `{deadline:...}`),
`{{ items|format_list }}` (`|format_list('or')`), `{{ text|digits }}` (ASCII digits in the locale's)."""


_SIZED_STR_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class BoundedSandbox(SandboxedEnvironment):
    """`SandboxedEnvironment` whose `*`, `**` and `%`, and `center`, `indent` and `format` filters,
    refuse to build more than `MAX_BUILT` characters or items; no `lipsum` global."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.filters.update(LOCALE_FILTERS)
        for name in ("center", "indent", "format"):
            self.filters[name] = _bounded_filter(name, self.filters[name])

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


__all__ = ["LOCALE_FILTERS", "MAX_BUILT", "BoundedSandbox"]

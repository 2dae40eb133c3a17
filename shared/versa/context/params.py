"""Declared query parameters of a creative: their specs and how a raw query value becomes a typed value.

A creative reads only the parameters its pack declares. Each declaration (`ParamSpec`) bounds what a
value may be — type, range, length, character set, blocklist — so that a merge value an email tool
fills in per recipient (and which no signature covers) can never carry more than the pack allows.
`coerce` is the single place a raw string turns into a typed value; it either returns a value that
satisfies the spec or raises `ParamError` naming the parameter, the value and what is allowed.

Pure: no IO, no environment, no clock.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from versa.errors import ParamError

ParamType = Literal["text", "int", "number", "enum", "bool", "datetime"]
"""The types a declared parameter may have."""

ParamValue = str | int | float | bool | datetime
"""A typed parameter value, as `coerce` returns it."""

DEFAULT_PUNCTUATION = ".,'’-&!?"
"""Punctuation the default text character set allows besides letters, digits and spaces."""

MAX_RAW_LENGTH = 2048
"""No raw query value longer than this is even looked at."""

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")

_INT_RE = re.compile(r"[+-]?[0-9]{1,18}")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
# A '+' in a URL query often arrives decoded as a space: "…T10:00:00 01:00" meant "…T10:00:00+01:00".
_SPACE_OFFSET_RE = re.compile(r"(.*T[0-9:.,]+) ([0-9]{2}(?::?[0-9]{2})?)")
_NUMERIC_TYPES = ("int", "number")


class ParamSpec(BaseModel):
    """What a creative accepts for one query parameter.

    Inconsistent specs are refused when the pack loads (an enum without values, `min` above `max`,
    bounds on a text parameter, a text option on a number, a default or sample the spec itself would
    refuse), so a spec that exists is one `coerce` can apply.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ParamType = "text"
    min: float | None = Field(default=None, description="Smallest allowed value (int and number).")
    max: float | None = Field(default=None, description="Largest allowed value (int and number).")
    max_len: int = Field(default=64, ge=1, le=1024, description="Most characters a text value may have.")
    charset: str | None = Field(
        default=None,
        description=(
            "Body of a regex character class every character of a text value must match, e.g. "
            "'A-Za-z0-9 '. Default: letters of any script, digits, space and .,'’-&!?"
        ),
    )
    blocklist: list[str] = Field(
        default_factory=list, description="Case-insensitive substrings a text value may not contain."
    )
    values: list[str] | None = Field(default=None, description="The allowed values of an enum.")
    merge: bool = Field(default=False, description="An email tool fills this in per recipient.")
    default: str | int | float | bool | None = Field(
        default=None, description="Value used when the request does not carry the parameter."
    )
    samples: list[str | int | float | bool] = Field(
        default_factory=list, description="Values used by previews and variant enumeration."
    )
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        set_fields = self.model_fields_set
        if self.type == "enum":
            if not self.values:
                raise ValueError("an enum parameter needs a non-empty 'values' list")
            folded = [v.casefold() for v in self.values]
            if len(set(folded)) != len(folded):
                raise ValueError("enum 'values' must be unique (case-insensitively)")
            if any(not v for v in self.values):
                raise ValueError("enum 'values' may not contain an empty string")
        elif self.values is not None:
            raise ValueError(f"'values' applies to enum parameters only, not {self.type}")
        if self.type not in _NUMERIC_TYPES and (self.min is not None or self.max is not None):
            raise ValueError(f"'min'/'max' apply to int and number parameters only, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min:g}) is greater than 'max' ({self.max:g})")
        for bound in (self.min, self.max):
            if bound is not None and not math.isfinite(bound):
                raise ValueError("'min'/'max' must be finite numbers")
            if bound is not None and self.type == "int" and not float(bound).is_integer():
                raise ValueError(f"bounds of an int parameter must be whole numbers, not {bound:g}")
        if self.type != "text":
            misplaced = sorted(set_fields & {"max_len", "charset", "blocklist"})
            if misplaced:
                raise ValueError(f"{', '.join(misplaced)} apply to text parameters only, not {self.type}")
        if self.charset is not None:
            _check_charset(self.charset)
        if any(not word.strip() for word in self.blocklist):
            raise ValueError("'blocklist' may not contain empty entries")
        if self.default is not None:
            _check_declared_value(self, "default", self.default)
        for sample in self.samples:
            _check_declared_value(self, "samples", sample)
        return self

    def default_value(self) -> ParamValue | None:
        """The typed default (a datetime for datetime parameters), or None when there is none."""
        if self.default is None:
            return None
        return _typed_declared(self, "default", self.default)

    def sample_values(self) -> list[ParamValue]:
        """The typed samples, in declaration order; for an enum without samples, its values; for a
        bool without samples, both truth values."""
        if self.samples:
            return [_typed_declared(self, "samples", s) for s in self.samples]
        if self.type == "enum" and self.values:
            return list(self.values)
        if self.type == "bool":
            return [True, False]
        return []


def describe_allowed(spec: ParamSpec) -> str:
    """A short, human-readable statement of the values `spec` accepts (used in error messages)."""
    if spec.type == "int":
        return _range_text("an integer", spec)
    if spec.type == "number":
        return _range_text("a number", spec)
    if spec.type == "enum":
        return "one of: " + ", ".join(spec.values or ())
    if spec.type == "bool":
        return "one of: " + ", ".join(w for pair in zip(TRUE_WORDS, FALSE_WORDS, strict=True) for w in pair)
    if spec.type == "datetime":
        return "an ISO-8601 date-time with a UTC offset or Z, e.g. 2025-12-01T09:00:00+01:00"
    chars = (
        f"characters matching [{spec.charset}]"
        if spec.charset is not None
        else f"characters of letters, digits, spaces and {DEFAULT_PUNCTUATION}"
    )
    text = f"at most {spec.max_len} {chars}"
    return text + (", without blocked words" if spec.blocklist else "")


def coerce(name: str, spec: ParamSpec, raw: str) -> ParamValue:
    """Turn the raw query value of parameter `name` into the typed value `spec` declares.

    Returns a str (NFC-normalized text, or the canonical spelling of an enum value, matched
    case-insensitively), an int, a finite float, a bool, or an aware datetime (for `datetime`, the
    raw value must be ISO-8601 with an offset or Z). Raises `ParamError(name, raw, allowed)` for
    anything the spec does not allow; never another exception.
    """
    if len(raw) > MAX_RAW_LENGTH:
        raise ParamError(name, raw[:64] + "…", describe_allowed(spec))
    value = _coerce(spec, raw)
    if value is None:
        raise ParamError(name, raw, describe_allowed(spec))
    return value


def _coerce(spec: ParamSpec, raw: str) -> ParamValue | None:
    """The typed value, or None when `spec` does not allow `raw`."""
    if spec.type == "text":
        return _coerce_text(spec, raw)
    value = raw.strip()
    if spec.type == "int":
        if not _INT_RE.fullmatch(value):
            return None
        return int(value) if _in_range(spec, int(value)) else None
    if spec.type == "number":
        if not _NUMBER_RE.fullmatch(value):
            return None
        number = float(value)
        return number if math.isfinite(number) and _in_range(spec, number) else None
    if spec.type == "enum":
        options = spec.values or []
        if value in options:
            return value
        folded = value.casefold()
        return next((option for option in options if option.casefold() == folded), None)
    if spec.type == "bool":
        word = value.lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    return _parse_aware(value)


def parse_aware_datetime(name: str, raw: str) -> datetime:
    """Parse an ISO-8601 date-time that carries a UTC offset or Z into an aware datetime.

    Also accepts the offset's '+' decoded to a space by URL form decoding. Raises `ParamError` for a
    naive or malformed value.
    """
    parsed = _parse_aware(raw.strip())
    if parsed is None:
        raise ParamError(name, raw, describe_allowed(_DATETIME_SPEC))
    return parsed


def _parse_aware(value: str) -> datetime | None:
    if len(value) > 64 or "T" not in value.upper():
        return None
    spaced = _SPACE_OFFSET_RE.fullmatch(value)
    if spaced:
        value = f"{spaced.group(1)}+{spaced.group(2)}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed


def _coerce_text(spec: ParamSpec, raw: str) -> str | None:
    text = unicodedata.normalize("NFC", raw)
    if len(text) > spec.max_len:
        return None
    if spec.charset is None:
        if not all(_default_char_ok(ch) for ch in text):
            return None
    elif not re.fullmatch(f"[{spec.charset}]*", text):
        return None
    folded = text.casefold()
    if any(word.casefold() in folded for word in spec.blocklist):
        return None
    return text


def _default_char_ok(ch: str) -> bool:
    """Letters of any script (with their combining marks), decimal digits, space, and the default
    punctuation."""
    if ch == " " or ch in DEFAULT_PUNCTUATION:
        return True
    category = unicodedata.category(ch)
    return category[0] in "LM" or category == "Nd"


def _in_range(spec: ParamSpec, number: float) -> bool:
    return (spec.min is None or number >= spec.min) and (spec.max is None or number <= spec.max)


def _range_text(kind: str, spec: ParamSpec) -> str:
    lo, hi = spec.min, spec.max
    if lo is not None and hi is not None:
        return f"{kind} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{kind} of at least {lo:g}"
    if hi is not None:
        return f"{kind} of at most {hi:g}"
    return kind


def _check_charset(body: str) -> None:
    """A charset is the body of ONE character class: non-empty, compilable, and with no unescaped
    bracket that could close the class and smuggle in another pattern."""
    if not body:
        raise ValueError("'charset' may not be empty")
    escaped = False
    for ch in body:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "[]":
            raise ValueError(f"'charset' is the body of a character class; escape {ch!r} as '\\{ch}'")
    if escaped:
        raise ValueError("'charset' ends with a lone backslash")
    try:
        re.compile(f"[{body}]")
    except re.error as exc:
        raise ValueError(f"'charset' is not a valid character class body: {exc}") from None


def _typed_declared(spec: ParamSpec, field: str, value: str | int | float | bool) -> ParamValue:
    """The typed form of a default or sample declared in the pack (which YAML may already have typed)."""
    if spec.type in ("text", "enum", "datetime"):
        if not isinstance(value, str):
            raise ValueError(f"'{field}' must be a string for a {spec.type} parameter, not {value!r}")
        return coerce(field, spec, value)
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        return coerce(field, spec, str(value))
    # int / number
    if isinstance(value, bool):
        raise ValueError(f"'{field}' must be a number for a {spec.type} parameter, not {value!r}")
    if isinstance(value, str):
        return coerce(field, spec, value)
    if spec.type == "int" and not float(value).is_integer():
        raise ValueError(f"'{field}' must be a whole number for an int parameter, not {value!r}")
    return coerce(field, spec, str(int(value)) if spec.type == "int" else repr(float(value)))


_DATETIME_SPEC = ParamSpec(type="datetime")


def _check_declared_value(spec: ParamSpec, field: str, value: str | int | float | bool) -> None:
    try:
        _typed_declared(spec, field, value)
    except ParamError as exc:
        raise ValueError(f"'{field}' value {value!r} is not allowed by this spec ({exc.allowed})") from None


__all__ = [
    "DEFAULT_PUNCTUATION",
    "ParamSpec",
    "ParamType",
    "ParamValue",
    "coerce",
    "describe_allowed",
    "parse_aware_datetime",
]

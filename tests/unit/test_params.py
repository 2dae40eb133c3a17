"""Declared query parameters: spec consistency and coercion of raw query values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from versa.context.params import ParamSpec, coerce, describe_allowed
from versa.errors import ParamError

# -- spec consistency ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "enum"}, "needs a non-empty 'values'"),
        ({"type": "enum", "values": []}, "needs a non-empty 'values'"),
        ({"type": "enum", "values": ["gold", "Gold"]}, "unique"),
        ({"type": "text", "values": ["a"]}, "enum parameters only"),
        ({"type": "int", "min": 10, "max": 1}, "greater than 'max'"),
        ({"type": "text", "min": 1}, "int and number parameters only"),
        ({"type": "bool", "max": 1}, "int and number parameters only"),
        ({"type": "int", "min": 0.5}, "whole numbers"),
        ({"type": "int", "max_len": 10}, "text parameters only"),
        ({"type": "enum", "values": ["a"], "charset": "a-z"}, "text parameters only"),
        ({"charset": "a-z]|.*["}, "escape"),
        ({"charset": ""}, "may not be empty"),
        ({"charset": "a-z\\"}, "lone backslash"),
        ({"charset": "z-a"}, "not a valid character class"),
        ({"blocklist": ["ok", " "]}, "empty entries"),
        ({"max_len": 4, "default": "too long"}, "'default' value"),
        ({"type": "int", "min": 0, "max": 10, "default": 11}, "'default' value"),
        ({"type": "int", "default": True}, "must be a number"),
        ({"type": "int", "default": 1.5}, "whole number"),
        ({"type": "enum", "values": ["gold"], "samples": ["bronze"]}, "'samples' value"),
        ({"type": "datetime", "default": "2025-01-01T00:00:00"}, "'default' value"),
        ({"type": "text", "default": 3}, "must be a string"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
    ],
)
def test_inconsistent_specs_are_refused(fields: dict[str, object], message: str) -> None:
    # GIVEN a spec a pack author got wrong
    # WHEN it is validated
    # THEN it is refused with a message that says what is wrong
    with pytest.raises(ValidationError, match=message):
        ParamSpec.model_validate(fields)


def test_spec_from_yaml_like_mapping_is_frozen_and_typed() -> None:
    # GIVEN the shape a pack.yaml declares
    spec = ParamSpec.model_validate(
        {"type": "int", "min": 0, "max": 100, "default": 10, "samples": [0, 50, "100"]}
    )

    # WHEN typed values are asked for
    # THEN defaults and samples come back typed, and the spec cannot be mutated
    assert spec.default_value() == 10
    assert spec.sample_values() == [0, 50, 100]
    with pytest.raises(ValidationError):
        spec.max_len = 3  # type: ignore[misc]


def test_sample_values_fall_back_to_enum_values_and_both_booleans() -> None:
    assert ParamSpec(type="enum", values=["gold", "silver"]).sample_values() == ["gold", "silver"]
    assert ParamSpec(type="bool").sample_values() == [True, False]
    assert ParamSpec().sample_values() == []
    assert ParamSpec().default_value() is None


def test_datetime_default_is_typed_as_aware_datetime() -> None:
    spec = ParamSpec(type="datetime", default="2025-12-24T18:00:00+01:00")
    assert spec.default_value() == datetime(2025, 12, 24, 17, 0, tzinfo=UTC)


def test_json_schema_exports() -> None:
    schema = ParamSpec.model_json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]["type"]["enum"]) == {"text", "int", "number", "enum", "bool", "datetime"}


# -- coercion -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        (ParamSpec(type="int", min=0, max=100), "42", 42),
        (ParamSpec(type="int", min=-5, max=5), "-5", -5),
        (ParamSpec(type="int"), "+7", 7),
        (ParamSpec(type="number", min=1, max=3), "1.5", 1.5),
        (ParamSpec(type="number"), "2e2", 200.0),
        (ParamSpec(type="number"), ".5", 0.5),
        (ParamSpec(type="enum", values=["gold", "silver"]), "gold", "gold"),
        (ParamSpec(type="enum", values=["gold", "silver"]), "SILVER", "silver"),
        (ParamSpec(type="bool"), "true", True),
        (ParamSpec(type="bool"), "No", False),
        (ParamSpec(type="bool"), "1", True),
        (ParamSpec(max_len=24), "José", "José"),
        (ParamSpec(max_len=24), "O’Brien-Smith", "O’Brien-Smith"),
        (ParamSpec(max_len=24), "Anne & Co.!", "Anne & Co.!"),
        (ParamSpec(max_len=24), "山田 太郎", "山田 太郎"),
        (ParamSpec(max_len=24), "नमस्ते", "नमस्ते"),  # combining marks (virama, vowel signs)
        (ParamSpec(max_len=24), "Zoe\u0308", "Zoë"),  # NFC-normalized
        (ParamSpec(max_len=24), "", ""),
        (ParamSpec(charset="A-Z0-9", max_len=8), "SAVE20", "SAVE20"),
    ],
)
def test_coerce_returns_typed_values(spec: ParamSpec, raw: str, expected: object) -> None:
    # GIVEN a spec and a raw query value it allows
    # WHEN the value is coerced
    value = coerce("p", spec, raw)

    # THEN the typed value comes back, with its type
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("spec", "raw", "allowed"),
    [
        (ParamSpec(type="int", min=0, max=100), "101", "an integer from 0 to 100"),
        (ParamSpec(type="int", min=0, max=100), "4.0", "an integer from 0 to 100"),
        (ParamSpec(type="int", min=0), "-1", "an integer of at least 0"),
        (ParamSpec(type="int", max=9), "1_000", "an integer of at most 9"),
        (ParamSpec(type="int"), "١٢", "an integer"),  # non-ASCII digits
        (ParamSpec(type="int"), "0x10", "an integer"),
        (ParamSpec(type="number", min=1, max=3), "nan", "a number from 1 to 3"),
        (ParamSpec(type="number"), "inf", "a number"),
        (ParamSpec(type="number"), "1e999", "a number"),
        (ParamSpec(type="enum", values=["gold", "silver"]), "bronze", "one of: gold, silver"),
        (ParamSpec(type="bool"), "maybe", "one of: true, false, 1, 0, yes, no, on, off"),
        (
            ParamSpec(max_len=24),
            "<script>alert(1)</script>",
            "at most 24 characters of letters, digits, spaces and .,'’-&!?",
        ),
        (ParamSpec(max_len=5), "Alexandra", "at most 5 characters"),
        (ParamSpec(), "line\nbreak", "letters, digits"),
        (ParamSpec(), "smile 😀", "letters, digits"),
        (ParamSpec(), "{{first_name}}", "letters, digits"),
        (ParamSpec(), "*|FNAME|*", "letters, digits"),
        (ParamSpec(charset="A-Z"), "abc", "characters matching [A-Z]"),
        (ParamSpec(blocklist=["free money"]), "FREE Money now", "without blocked words"),
        (ParamSpec(type="datetime"), "2025-12-01T10:00:00", "with a UTC offset or Z"),
        (ParamSpec(type="datetime"), "2025-12-01", "with a UTC offset or Z"),
        (ParamSpec(type="datetime"), "tomorrow", "with a UTC offset or Z"),
    ],
)
def test_coerce_refuses_with_param_error_naming_what_is_allowed(
    spec: ParamSpec, raw: str, allowed: str
) -> None:
    # GIVEN a raw value the spec does not allow
    # WHEN it is coerced
    with pytest.raises(ParamError) as caught:
        coerce("first_name", spec, raw)

    # THEN the error names the parameter, the value and what is allowed
    assert caught.value.name == "first_name"
    assert caught.value.value == raw
    assert allowed in caught.value.allowed
    assert "first_name" in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-12-01T09:00:00Z", datetime(2025, 12, 1, 9, 0, tzinfo=UTC)),
        ("2025-12-01T10:00:00+01:00", datetime(2025, 12, 1, 9, 0, tzinfo=UTC)),
        ("2025-12-01T10:00:00 01:00", datetime(2025, 12, 1, 9, 0, tzinfo=UTC)),  # '+' decoded as space
        ("2025-12-01T04:00:00-05:00", datetime(2025, 12, 1, 9, 0, tzinfo=UTC)),
        ("2025-12-01T14:30:00.5+05:30", datetime(2025, 12, 1, 9, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_datetime_needs_an_offset_and_keeps_it(raw: str, expected: datetime) -> None:
    # WHEN an ISO-8601 value with an offset is coerced
    value = coerce("at", ParamSpec(type="datetime"), raw)

    # THEN it is the same instant, aware
    assert isinstance(value, datetime)
    assert value.tzinfo is not None
    assert value == expected


def test_datetime_keeps_the_offset_it_was_given() -> None:
    value = coerce("at", ParamSpec(type="datetime"), "2025-06-01T12:00:00+09:00")
    assert isinstance(value, datetime)
    assert value.utcoffset() == timedelta(hours=9)
    assert value.tzinfo == timezone(timedelta(hours=9))


def test_overlong_raw_values_are_refused_without_echoing_them_whole() -> None:
    with pytest.raises(ParamError) as caught:
        coerce("q", ParamSpec(type="int"), "1" * 10_000)
    assert len(str(caught.value.value)) < 100


def test_describe_allowed_for_each_type() -> None:
    assert describe_allowed(ParamSpec(type="number", min=1, max=3)) == "a number from 1 to 3"
    assert describe_allowed(ParamSpec(type="number", max=2.5)) == "a number of at most 2.5"
    assert describe_allowed(ParamSpec(type="enum", values=["a", "b"])) == "one of: a, b"
    assert describe_allowed(ParamSpec(max_len=24)) == (
        "at most 24 characters of letters, digits, spaces and .,'’-&!?"
    )


# -- properties ---------------------------------------------------------------------------------------

SPECS = [
    ParamSpec(),
    ParamSpec(max_len=3, blocklist=["x"]),
    ParamSpec(charset="a-z0-9 "),
    ParamSpec(type="int", min=-10, max=10),
    ParamSpec(type="number", min=0, max=1),
    ParamSpec(type="enum", values=["gold", "silver"]),
    ParamSpec(type="bool"),
    ParamSpec(type="datetime"),
]


@given(spec=st.sampled_from(SPECS), raw=st.text(max_size=80))
def test_coerce_only_ever_returns_an_allowed_value_or_raises_param_error(spec: ParamSpec, raw: str) -> None:
    # GIVEN any raw text
    # WHEN it is coerced
    try:
        value = coerce("p", spec, raw)
    except ParamError as exc:
        # THEN a refusal is a ParamError naming the parameter
        assert exc.name == "p"
        return
    # THEN an accepted value satisfies the spec
    if spec.type == "text":
        assert isinstance(value, str)
        assert len(value) <= spec.max_len
        assert not any(word in value.casefold() for word in spec.blocklist)
    elif spec.type in ("int", "number"):
        assert isinstance(value, int | float)
        assert spec.min is not None
        assert spec.max is not None
        assert spec.min <= value <= spec.max
    elif spec.type == "enum":
        assert value in (spec.values or [])
    elif spec.type == "datetime":
        assert isinstance(value, datetime)
        assert value.utcoffset() is not None


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_int_round_trips(number: int) -> None:
    assert coerce("n", ParamSpec(type="int"), str(number)) == number

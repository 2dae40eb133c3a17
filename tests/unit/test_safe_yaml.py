"""The bounded pack YAML loader: limits, locations and messages (versa.pack.safe_yaml)."""

from __future__ import annotations

import pytest

from versa.errors import PackError
from versa.pack.safe_yaml import YamlLimits, parse_yaml

SMALL = YamlLimits(max_bytes=1000, max_depth=4, max_nodes=20)


def issue(data: bytes, limits: YamlLimits = SMALL) -> str:
    with pytest.raises(PackError) as caught:
        parse_yaml(data, "pack.yaml", limits)
    assert len(caught.value.issues) == 1
    return str(caught.value.issues[0])


def test_a_document_within_every_limit_loads_as_before() -> None:
    # GIVEN a mapping 4 levels deep with 11 values, anchors and a merge key
    data = b"a: &base {x: 1}\nb: {<<: *base, y: [1, 2]}\n"
    # WHEN parsed under the small limits
    # THEN it is the plain safe-loaded mapping
    assert parse_yaml(data, "pack.yaml", SMALL) == {"a": {"x": 1}, "b": {"x": 1, "y": [1, 2]}}


@pytest.mark.parametrize("depth, ok", [(4, True), (5, False)])
def test_depth_limit_is_exact(depth: int, ok: bool) -> None:
    # GIVEN a mapping whose innermost list sits at `depth` (the top mapping is level 1)
    data = b"a: " + b"[" * (depth - 1) + b"]" * (depth - 1)
    # WHEN parsed with max_depth 4
    # THEN depth 4 loads and depth 5 is refused at the offending line with the limit named
    if ok:
        parse_yaml(data, "pack.yaml", SMALL)
    else:
        assert issue(data).startswith("pack.yaml: line 1, column ")
        assert "nested deeper than 4 levels (at most 4 are allowed" in issue(data)


def test_block_nesting_is_counted_like_flow_nesting() -> None:
    # GIVEN block mappings where key `d` sits inside four mappings (its level is 5)
    data = b"a:\n  b:\n    c:\n      d:\n        e: 1\n"
    # THEN it is refused at `d`, on its line and column
    assert issue(data).startswith("pack.yaml: line 4, column 7: nested deeper than 4 levels")


@pytest.mark.parametrize("items, ok", [(17, True), (18, False)])
def test_node_limit_counts_every_value(items: int, ok: bool) -> None:
    # GIVEN a top mapping, one key and a list of `items` values: 3 + items nodes
    data = b"a: [" + b",".join(b"x" for _ in range(items)) + b"]"
    # WHEN parsed with max_nodes 20
    # THEN 20 nodes load and 21 are refused, naming the limit
    if ok:
        assert len(parse_yaml(data, "pack.yaml", SMALL)["a"]) == items
    else:
        assert "more than 20 values once aliases are expanded (at most 20 are allowed" in issue(data)


def test_an_alias_counts_as_a_copy_of_what_it_names() -> None:
    # GIVEN an anchored list of 5 values (6 nodes) named three times: 1 + 2 + 6 + 3*(1 + 6) > 20
    data = b"a: &x [1, 2, 3, 4, 5]\nb: *x\nc: *x\nd: *x\n"
    # THEN it is refused at the alias that crosses the limit, although the text holds 12 nodes
    assert issue(data).startswith("pack.yaml: line 3, column 4: more than 20 values")


def test_an_alias_adds_the_depth_of_what_it_names() -> None:
    # GIVEN a 3-deep anchored structure placed again under two more levels (1 + 2 + 3 > 4)
    data = b"a: &x [[1]]\nb: [[*x]]\n"
    # THEN the expanded depth is refused
    assert "nested deeper than 4 levels" in issue(data)


@pytest.mark.parametrize("data", [b"a: &a [1, *a]\n", b"a: &a {k: *a}\n"])
def test_recursive_aliases_are_refused(data: bytes) -> None:
    assert "names a node that contains it" in issue(data, YamlLimits())


def test_size_limit_is_checked_before_parsing() -> None:
    # GIVEN 1,001 bytes of an otherwise fine comment
    data = b"#" + b"x" * 1000
    # THEN the size is refused with the cap
    assert issue(data) == "pack.yaml: is 1,001 bytes: pack YAML may be at most 1,000 bytes"


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"a: 1\nb: \xc3\x28\n", "pack.yaml: line 2: not UTF-8 text (byte 0xc3 at offset 8); save the file as UTF-8"),
        (b"a: 1\n\nb: \x01\n", "pack.yaml: line 3: character U+0001 is not allowed in YAML (printable text only)"),
        (b"- a\n- b\n", "pack.yaml: line 1, column 1: the top level is a list; it must be a mapping"),
        (b"just text", "pack.yaml: line 1, column 1: the top level is a single value; it must be a mapping"),
        (b"", "pack.yaml: line 1: the top level is an empty document; it must be a mapping"),
        (b"a: 1\na: 2\n", "pack.yaml: line 2, column 1: duplicate key 'a' (first at line 1); each key may appear once"),
        (b"a: [1, 2\nb: 3\n", "pack.yaml: line 2, column 2: YAML syntax error: expected ',' or ']'"),
        (b"a: 2026-13-45\n", "pack.yaml: line 1, column 4: value cannot be read: month must be in 1..12"),
        (b"a: " + b"7" * 5000 + b"\n", "pack.yaml: line 1, column 4: value cannot be read: Exceeds the limit"),
        (b"a: !!python/name:os.system x\n", "pack.yaml: line 1, column 4: YAML syntax error: could not determine a constructor"),
    ],
)
def test_every_parse_failure_is_a_pack_error_with_a_location(data: bytes, expected: str) -> None:
    assert issue(data, YamlLimits()).startswith(expected)

"""docs/PACKS.md against the model: every field of the pack schema is in the guide, and what the guide
says about defaults and reserved names is what the loader does.

A field counts as mentioned when its name appears as a word inside inline code (`max_chars`,
`{color, width}`) or as a key (`name:`) in one of the guide's YAML examples; prose alone does not count.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from versa.cli.main import main
from versa.context.model import RESERVED_QUERY_NAMES
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.pack.model import PackModel
from versa.render.checks import PACK_CHECKS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "PACKS.md"
EXAMPLES = ROOT / "examples" / "packs"


def schema() -> dict[str, Any]:
    """The JSON Schema `versa schema` prints."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["schema"]) == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def field_names(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    """(field name, where in the schema) for every property the schema declares, at any depth."""
    if isinstance(node, dict):
        for name in node.get("properties", {}) or {}:
            yield name, where
        for key, value in node.items():
            yield from field_names(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from field_names(value, f"{where}/{i}")


def mentioned_words(markdown: str) -> set[str]:
    """Words inside inline code spans, and keys of the YAML in fenced blocks."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.S | re.M)
    words: set[str] = set()
    for span in re.findall(r"`([^`\n]+)`", prose):
        words |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span))
    for block in fenced:
        words |= set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*:", block))
    return words


GUIDE_TEXT = GUIDE.read_text(encoding="utf-8")
MENTIONED = mentioned_words(GUIDE_TEXT)


def test_the_mention_rule_is_not_vacuous() -> None:
    # Prose words and names that are nowhere in code do not count.
    assert mentioned_words("a field called tone, said in prose") == set()
    assert mentioned_words("`{color, width}` and\n```yaml\nx: {tone: 1}\n```\n") == {"color", "width", "x", "tone"}
    assert "frobnicate" not in MENTIONED


def test_every_field_of_the_pack_schema_is_in_the_guide() -> None:
    # GIVEN every field name the exported JSON Schema declares
    fields: dict[str, set[str]] = {}
    for name, where in field_names(schema()):
        fields.setdefault(name, set()).add(where)
    assert {"brand", "creatives", "layers", "vary_by", "deadline_param"} <= set(fields)  # the walk works
    # THEN the guide mentions each one
    missing = {name: sorted(where)[0] for name, where in fields.items() if name not in MENTIONED}
    assert not missing, f"docs/PACKS.md does not mention these pack fields (name: first place): {missing}"


def example_keys(node: Any, model_fields: set[str]) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in model_fields:
                yield key
            yield from example_keys(value, model_fields)
    elif isinstance(node, list):
        for value in node:
            yield from example_keys(value, model_fields)


def test_every_field_the_example_packs_use_is_in_the_guide() -> None:
    fields = {name for name, _ in field_names(schema())}
    used = {
        key
        for pack in sorted(EXAMPLES.iterdir())
        for key in example_keys(yaml.safe_load((pack / "pack.yaml").read_text(encoding="utf-8")), fields)
    }
    assert {"tone", "note", "label_color", "description"} <= used
    assert used <= MENTIONED, sorted(used - MENTIONED)


# ---------------------------------------------------------------------------------------- defaults


def table_row(field: str) -> list[str]:
    """The cells of the guide's top-level table row for `field`."""
    for line in GUIDE_TEXT.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == f"`{field}`":
            return cells
    raise AssertionError(f"no table row for `{field}` in docs/PACKS.md")


def test_guide_states_the_default_formats() -> None:
    default = PackModel.model_fields["render"].get_default(call_default_factory=True).formats
    stated = table_row("render")[2].split(";")[0]
    for fmt in ("png", "jpg", "webp", "gif", "html", "avif"):
        assert (f"`{fmt}`" in stated) == (fmt in default), (fmt, stated)


def test_guide_states_the_cache_and_quality_defaults() -> None:
    cache = PackModel.model_fields["cache"].get_default(call_default_factory=True)
    assert table_row("cache")[2] == ", ".join(
        str(v) for v in (cache.max_age, cache.stale_if_error, cache.default_copy_ttl, cache.fallback_ttl)
    )
    render = PackModel.model_fields["render"].get_default(call_default_factory=True)
    assert table_row("render")[2].startswith(f"{render.jpeg_quality}, {render.webp_quality}, ")


# ---------------------------------------------------------------------------------- reserved names


def reserved_in_guide() -> list[str]:
    match = re.search(r"Reserved query names: ((?:`[a-z_]+` ?)+)", GUIDE_TEXT)
    assert match is not None, "docs/PACKS.md lost its 'Reserved query names: `…`' sentence"
    return re.findall(r"`([a-z_]+)`", match.group(1))


def attributes_in_guide() -> list[str]:
    match = re.search(r"^Attributes: (.*?)\n\n", GUIDE_TEXT, flags=re.S | re.M)
    assert match is not None
    return [w for w in re.findall(r"`([a-z_]+)`", match.group(1)) if not w.startswith("-")]


def test_guide_lists_exactly_the_reserved_query_names() -> None:
    assert sorted(reserved_in_guide()) == sorted(RESERVED_QUERY_NAMES)


@pytest.fixture(scope="module")
def refused_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The parameter names the loader refuses among those the guide calls reserved or attributes."""
    root = tmp_path_factory.mktemp("reserved") / "acme"
    shutil.copytree(EXAMPLES / "acme", root)
    data = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
    names = {*reserved_in_guide(), *attributes_in_guide(), "first_name"}
    data["creatives"]["winter-sale"]["params"] = {name: {"type": "text"} for name in sorted(names)}
    (root / "pack.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PackError) as err:
        load_pack(root, checks=PACK_CHECKS)
    return {m.group(1) for m in re.finditer(r"params\.([a-z_]+)", str(err.value))}


def test_loader_refuses_every_reserved_name_the_guide_lists(refused_names: set[str]) -> None:
    assert set(reserved_in_guide()) <= refused_names


def test_loader_refuses_every_attribute_name_the_guide_lists(refused_names: set[str]) -> None:
    attributes = set(attributes_in_guide())
    assert {"country", "daypart", "region", "os", "theme"} <= attributes
    assert attributes <= refused_names
    assert "first_name" not in refused_names  # an ordinary name is fine


def test_the_guides_pictures_exist_are_linked_and_are_drawn_by_the_script() -> None:
    import importlib.util

    # GIVEN the script that draws the guide's pictures from the example pack
    spec = importlib.util.spec_from_file_location("docs_images", ROOT / "scripts" / "docs_images.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = {f"img/{name}" for name in module.IMAGES}
    # WHEN the guide's image links are read
    linked = set(re.findall(r"!\[[^\]]+\]\(([^)]+)\)", GUIDE.read_text(encoding="utf-8")))
    # THEN each is a relative link to a picture the script draws, and the file is there
    assert linked == drawn
    for link in linked:
        assert (GUIDE.parent / link).is_file(), f"{link} is missing: run scripts/docs_images.py"

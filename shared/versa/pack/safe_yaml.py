"""Reading pack YAML with bounds, before any model sees it.

`pack.yaml` is parsed by PyYAML's safe loader, subclassed to refuse what costs more than it weighs:
a file over `YamlLimits.max_bytes`, nesting deeper than `max_depth`, and more than `max_nodes` nodes
once aliases are expanded (an alias counts as a copy of what it names, so a kilobyte "billion laughs"
is refused after a few hundred nodes instead of expanding to gigabytes). An alias may not name a node
that contains it (a recursive structure). Limits are checked while the document is composed, event by
event, so refusing a hostile file costs about as much as reading its first offending part.

Every failure — bad UTF-8, a syntax error, a limit, a repeated key, a value the safe constructor
cannot build, a top level that is not a mapping — is a `PackError` whose issue names the file, the
line and what is allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

from versa.errors import Issue, PackError
from versa.pack.assets import AssetError, FileTooLarge, read_pack_file


@dataclass(frozen=True)
class YamlLimits:
    """How much YAML a pack may spend. The defaults are far above what a real pack needs (the
    example packs: 6 KB, 10 levels, about 620 values)."""

    max_bytes: int = 512 * 1024
    max_depth: int = 32
    max_nodes: int = 20_000


DEFAULT_LIMITS = YamlLimits()


class YamlRefused(yaml.MarkedYAMLError):
    """The YAML is well-formed but over a limit (depth, expanded nodes) or recursive."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class _DuplicateKey(yaml.constructor.ConstructorError):
    pass


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits on depth and expanded size, and a repeated key in a mapping as
    an error (not last-one-wins)."""

    def __init__(self, stream: str, limits: YamlLimits = DEFAULT_LIMITS) -> None:
        super().__init__(stream)
        self.limits = limits
        self._depth = 0
        self._nodes = 0
        self._deepest: list[int] = []  # per open node: the deepest level reached inside it
        self._open: set[str] = set()  # anchors of the nodes being composed
        self._anchored: dict[str, tuple[int, int]] = {}  # anchor -> (expanded nodes, height)
        self.current: Node | None = None  # the node being constructed (for error locations)

    # ------------------------------------------------------------------------------ composing

    def _count(self, nodes: int, mark: Any) -> None:
        self._nodes += nodes
        if self._nodes > self.limits.max_nodes:
            raise YamlRefused(
                f"more than {self.limits.max_nodes:,} values once aliases are expanded "
                f"(at most {self.limits.max_nodes:,} are allowed; an alias counts as a copy of what it names)",
                mark,
            )

    def _reach(self, depth: int, mark: Any) -> None:
        if depth > self.limits.max_depth:
            raise YamlRefused(
                f"nested deeper than {self.limits.max_depth} levels (at most {self.limits.max_depth} are allowed, "
                "aliases expanded)",
                mark,
            )
        if self._deepest and depth > self._deepest[-1]:
            self._deepest[-1] = depth

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            anchor = str(event.anchor)
            if anchor in self._open:
                raise YamlRefused(f"alias *{anchor} names a node that contains it (recursive structures are refused)",
                                  event.start_mark)
            if anchor in self._anchored:
                size, height = self._anchored[anchor]
                self._count(size, event.start_mark)
                self._reach(self._depth + height, event.start_mark)
            return super().compose_node(parent, index)
        before = self._nodes
        self._depth += 1
        self._reach(self._depth, event.start_mark)
        self._count(1, event.start_mark)
        opened: str | None = event.anchor
        self._deepest.append(self._depth)
        if opened is not None:
            self._open.add(opened)
        node = super().compose_node(parent, index)
        deepest = self._deepest.pop()
        if self._deepest and deepest > self._deepest[-1]:
            self._deepest[-1] = deepest
        if opened is not None:
            self._open.discard(opened)
            self._anchored[opened] = (self._nodes - before, deepest - self._depth + 1)
        self._depth -= 1
        return node

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        """Refuse deep flow nesting (`[[[[...`) as the scanner meets it: its look-ahead for simple keys
        would otherwise scan a long line once per open bracket before the composer sees the depth."""
        super().fetch_flow_collection_start(TokenClass)
        if self.flow_level > self.limits.max_depth:
            self._reach(self.flow_level + 1, self.get_mark())

    # ---------------------------------------------------------------------------- constructing

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        self.current = node
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                line = first.setdefault(key, key_node.start_mark.line)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if line != key_node.start_mark.line:
                raise _DuplicateKey(
                    None, None, f"duplicate key {key!r} (first at line {line + 1}); each key may appear once",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _kind(node: Node | None) -> str:
    if node is None:
        return "an empty document"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a single value"


class Document(dict[str, Any]):
    """A parsed pack YAML mapping that remembers its node tree, so a path can be found in the file."""

    node: Node | None = None


def position(node: Node | None, path: str) -> tuple[int, int] | None:
    """(line, column), 1-based, where `path` (`creatives.x.layers[2].font` or, naming an item by its
    id, `creatives.x.layers['hero'].font`; keys may hold dots, as `set:` keys do) is written under `node`: the key of the deepest part that exists, so a missing
    field points at the mapping that lacks it. None for an empty path or no node."""
    if node is None or not path:
        return None
    mark = None
    rest = path
    while rest:
        if isinstance(node, MappingNode):
            best = None
            for key_node, value_node in node.value:
                key = str(getattr(key_node, "value", ""))
                fits = rest == key or rest.startswith((key + ".", key + "["))
                if fits and (best is None or len(key) > len(best[0])):
                    best = (key, key_node, value_node)
            if best is None:
                break
            key, key_node, node = best
            mark = key_node.start_mark
            rest = rest[len(key) :].removeprefix(".")
        elif isinstance(node, yaml.SequenceNode) and rest.startswith("["):
            index, _, after = rest[1:].partition("]")
            found = _item_node(node, index)
            if found is None:
                break
            node = found
            mark = node.start_mark
            rest = after.removeprefix(".")
        else:
            break
    if mark is None:
        return None
    return mark.line + 1, mark.column + 1


def _item_node(seq: yaml.SequenceNode, index: str) -> Node | None:
    """The item of `seq` a path's `[N]` or `['ID']` names (the first with that id), or None."""
    if index.isdigit():
        return seq.value[int(index)] if int(index) < len(seq.value) else None
    if len(index) < 2 or index[0] != index[-1] or index[0] not in "'\"":
        return None
    wanted = index[1:-1]
    for child in seq.value:
        if isinstance(child, MappingNode) and any(
            getattr(k, "value", None) == "id" and getattr(v, "value", None) == wanted for k, v in child.value
        ):
            return child
    return None


def parse_yaml(data: bytes, name: str, limits: YamlLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The mapping a pack YAML document holds; raises PackError naming `name`, the line and the rule."""
    if len(data) > limits.max_bytes:
        raise PackError([Issue(name, "", f"is {len(data):,} bytes: pack YAML may be at most {limits.max_bytes:,} bytes")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PackError([
            Issue(name, f"line {line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                  "save the file as UTF-8")
        ]) from None
    loader: BoundedLoader | None = None
    try:
        loader = BoundedLoader(text, limits)  # the reader refuses non-printable characters here
        node = loader.get_single_node()
        if isinstance(node, MappingNode):
            result = Document(loader.construct_document(node))
            result.node = node
            return result
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if isinstance(exc, YamlRefused | _DuplicateKey):
            message = problem
        else:
            context = f" ({exc.context})" if exc.context else ""
            message = f"YAML syntax error: {problem}{context}"
        raise PackError([Issue(name, _where(mark), message)]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise PackError([
            Issue(name, f"line {line}", f"character U+{code:04X} is not allowed in YAML (printable text only)")
        ]) from None
    except yaml.YAMLError as exc:
        raise PackError([Issue(name, "", f"YAML error: {exc}")]) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # The safe constructor raises builtins for values it matches but cannot build: an integer of
        # more digits than Python converts, a timestamp like 2026-13-45.
        mark = loader.current.start_mark if loader is not None and loader.current is not None else None
        raise PackError([Issue(name, _where(mark), f"value cannot be read: {exc}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    raise PackError([
        Issue(name, _where(node.start_mark if node is not None else None) or "line 1",
              f"the top level is {_kind(node)}; it must be a mapping with brand, locales and creatives")
    ])


def read_pack_yaml(root: Path, name: str, limits: YamlLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Read and parse `name` inside the pack `root` (a regular file, read without following links,
    at most `limits.max_bytes`); raises PackError."""
    try:
        data = read_pack_file(root, name, max_bytes=limits.max_bytes)
    except FileTooLarge as exc:
        raise PackError([Issue(name, "", f"is over {exc.cap:,} bytes: pack YAML may be at most {exc.cap:,} bytes")]) from None
    except AssetError as exc:
        if not os.path.lexists(root / name):
            raise PackError([Issue(name, "", f"no {name} in {root}")]) from None
        raise PackError([Issue(name, "", getattr(exc, "detail", str(exc)))]) from None
    except OSError as exc:
        raise PackError([Issue(name, "", f"cannot be read ({exc.strerror})")]) from None
    return parse_yaml(data, name, limits)


__all__ = [
    "DEFAULT_LIMITS",
    "BoundedLoader",
    "Document",
    "YamlLimits",
    "YamlRefused",
    "parse_yaml",
    "position",
    "read_pack_yaml",
]

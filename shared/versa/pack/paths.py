"""How errors name a place in pack.yaml: a field path such as ``creatives.winter-sale.rules['winter-de'].when``.

A list item that has an id is named by it (``rules['winter-de']``, ``layers['hero'].children['title']``),
so an error still points at the right item after the author reorders the list; an item without an id,
or whose id is not unique among its siblings (an error of its own), keeps its index (``by_size[0]``).
Mapping keys are joined with dots (``tokens.fonts.body``); keys may hold dots, as `set:` keys do.
`versa.pack.safe_yaml.position` finds either form in the file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

_PLAIN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""An id that can be written between quotes in a path without escaping."""
_INDEX = re.compile(r"\[(\d+)\]")


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """'; did you mean 'X'?' for the candidate closest to `word` (a typo), else ''."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.7)
    return f"; did you mean {close[0]!r}?" if close else ""


def item(index: int, item_id: Any) -> str:
    """The path segment of the list item at `index` whose id is `item_id` (None: it has none)."""
    if isinstance(item_id, str) and _PLAIN_ID.match(item_id):
        return f"[{item_id!r}]"
    return f"[{index}]"


def named_path(data: Any, path: str) -> str:
    """`path` (as pydantic and the checks write it, with indexes) with each list index replaced by the
    id of the item at that place in `data` (the parsed pack.yaml), when the item has a plain id that
    no sibling shares; the rest of the path is kept as written."""
    out: list[str] = []
    node = data
    pos = 0
    while pos < len(path):
        if path[pos] == "[":
            match = _INDEX.match(path, pos)
            if match is None:  # already named, or not an index: the rest stays as written
                out.append(path[pos:])
                break
            index = int(match.group(1))
            if isinstance(node, list) and index < len(node):
                child = node[index]
                own = child.get("id") if isinstance(child, dict) else None
                ids = [c.get("id") for c in node if isinstance(c, dict)]
                out.append(item(index, own) if own is not None and ids.count(own) == 1 else f"[{index}]")
                node = child
            else:
                out.append(match.group(0))
                node = None
            pos = match.end()
            continue
        if path[pos] == ".":
            out.append(".")
            pos += 1
            continue
        key, node = _key_at(node, path, pos)
        out.append(key)
        pos += len(key)
    return "".join(out)


def _key_at(node: Any, path: str, pos: int) -> tuple[str, Any]:
    """The mapping key written at `path[pos:]` (the longest key of `node` that fits, since keys may
    hold dots) and its value; else the text up to the next separator and None."""
    rest = path[pos:]
    if isinstance(node, dict):
        best = None
        for key in node:
            text = str(key)
            if (rest == text or rest.startswith((text + ".", text + "["))) and (best is None or len(text) > len(best)):
                best = text
        if best is not None:
            value = next(v for k, v in node.items() if str(k) == best)
            return best, value
    end = len(rest)
    for sep in (".", "["):
        at = rest.find(sep)
        if at > 0:
            end = min(end, at)
    return rest[:end], None


__all__ = ["did_you_mean", "item", "named_path"]

"""Minimal bidirectional text support: enough of the Unicode Bidirectional Algorithm (UAX #9) for
single-paragraph ad copy that mixes left-to-right and right-to-left scripts.

What is implemented, in the UAX #9 rule names:

* P2/P3 — the paragraph direction is that of the first strong character (L → ltr, R/AL → rtl);
* W1–W7 — non-spacing marks (and zero-width joiners, class BN) take the type of the character before
  them; European numbers after Arabic letters become Arabic numbers; separators between numbers and
  terminators next to European numbers join the number; European numbers after L text become L;
* N0 — paired brackets (a fixed table of the common pairs) take the paragraph direction when
  they enclose text of that direction, else the direction of the text they enclose if the text
  before them has that direction too;
* N1/N2 — a run of neutrals between two strong types of the same direction (numbers count as R)
  takes that direction, otherwise the paragraph direction;
* I1/I2 — implicit embedding levels (0/1 for the paragraph, +1 or +2 for the opposite direction and
  for numbers);
* L2 — `visual_order` reverses contiguous sequences at each level from the highest down.

What is not: explicit embeddings, overrides and isolates (LRE/RLE/LRO/RLO/PDF/LRI/RLI/FSI/PDI are
treated as neutrals), canonical-equivalent brackets, and mirroring (raqm mirrors glyphs when it
shapes a run right-to-left). Line-end whitespace (L1) is the caller's business: the layout engine drops it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Literal, TypeVar

Direction = Literal["ltr", "rtl"]

T = TypeVar("T")

_NEUTRAL = "ON"
_EXPLICIT = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
_NEUTRALS = frozenset({"ON", "WS", "B", "S"})
_BRACKETS = {
    "(": ")",
    "[": "]",
    "{": "}",
    "\u0f3a": "\u0f3b",
    "\u0f3c": "\u0f3d",
    "\u2045": "\u2046",
    "\u207d": "\u207e",
    "\u208d": "\u208e",
    "\u2329": "\u232a",
    "\u27e8": "\u27e9",
    "\u3008": "\u3009",
    "\u300a": "\u300b",
    "\u300c": "\u300d",
    "\u300e": "\u300f",
    "\u3010": "\u3011",
    "\u3014": "\u3015",
    "\u3016": "\u3017",
    "\u3018": "\u3019",
    "\u301a": "\u301b",
    "\ufe59": "\ufe5a",
    "\uff08": "\uff09",
    "\uff3b": "\uff3d",
    "\uff5b": "\uff5d",
    "\uff5f": "\uff60",
    "\uff62": "\uff63",
}
_MAX_BRACKET_DEPTH = 63


def _bidi_class(char: str) -> str:
    cls = unicodedata.bidirectional(char) or "L"
    return _NEUTRAL if cls in _EXPLICIT else cls


_RTL_CLASSES = frozenset({"R", "AL", "AN"})


def has_rtl(text: str) -> bool:
    """True when some character of `text` is right-to-left (bidi class R or AL) or an Arabic number (AN)."""
    if text.isascii():
        return False
    return not _RTL_CLASSES.isdisjoint(map(unicodedata.bidirectional, text))


def base_direction(text: str, default: Direction = "ltr") -> Direction:
    """The paragraph direction: that of the first strong character, else `default`."""
    for char in text:
        cls = unicodedata.bidirectional(char)
        if cls == "L":
            return "ltr"
        if cls in ("R", "AL"):
            return "rtl"
    return default


def _resolve_weak(types: list[str], sos: str) -> None:
    n = len(types)
    # W1: NSM (and BN, which we keep in place rather than remove) take the previous type.
    for i in range(n):
        if types[i] in ("NSM", "BN"):
            types[i] = types[i - 1] if i else sos
    # W2: EN after AL becomes AN. W3: AL becomes R.
    last_strong = sos
    for i in range(n):
        t = types[i]
        if t in ("L", "R", "AL"):
            last_strong = t
        elif t == "EN" and last_strong == "AL":
            types[i] = "AN"
    for i in range(n):
        if types[i] == "AL":
            types[i] = "R"
    # W4: a single separator between two numbers of the same kind joins them.
    for i in range(1, n - 1):
        t, before, after = types[i], types[i - 1], types[i + 1]
        if t == "ES" and before == after == "EN":
            types[i] = "EN"
        elif t == "CS" and before == after and before in ("EN", "AN"):
            types[i] = before
    # W5: terminators adjacent to European numbers become European numbers.
    i = 0
    while i < n:
        if types[i] != "ET":
            i += 1
            continue
        j = i
        while j < n and types[j] == "ET":
            j += 1
        if (i > 0 and types[i - 1] == "EN") or (j < n and types[j] == "EN"):
            types[i:j] = ["EN"] * (j - i)
        i = j
    # W6: remaining separators and terminators are neutral.
    for i in range(n):
        if types[i] in ("ES", "ET", "CS"):
            types[i] = _NEUTRAL
    # W7: European numbers in L context become L.
    last_strong = sos
    for i in range(n):
        t = types[i]
        if t in ("L", "R"):
            last_strong = t
        elif t == "EN" and last_strong == "L":
            types[i] = "L"


def _bracket_pairs(text: str, types: list[str]) -> list[tuple[int, int]]:
    """Matching bracket pairs (BD16), sorted by the opening bracket's position."""
    closers = {close: open_ for open_, close in _BRACKETS.items()}
    stack: list[tuple[str, int]] = []
    pairs: list[tuple[int, int]] = []
    for i, char in enumerate(text):
        if types[i] != _NEUTRAL:
            continue
        if char in _BRACKETS:
            if len(stack) == _MAX_BRACKET_DEPTH:
                break
            stack.append((char, i))
        elif char in closers:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == closers[char]:
                    pairs.append((stack[depth][1], i))
                    del stack[depth:]
                    break
    return sorted(pairs)


def _strong_dir(t: str) -> str | None:
    return "L" if t == "L" else "R" if t in ("R", "EN", "AN") else None


def _resolve_brackets(text: str, types: list[str], base: str) -> None:
    for open_, close in _bracket_pairs(text, types):
        inside = {_strong_dir(t) for t in types[open_ + 1 : close]} - {None}
        if not inside:
            continue
        if base in inside:
            direction = base
        else:
            before = next((d for t in reversed(types[:open_]) if (d := _strong_dir(t))), base)
            direction = before if before in inside else base
        types[open_] = types[close] = direction
        for i in (open_, close):  # marks on a bracket follow it (W1 ran before brackets were known)
            j = i + 1
            while j < len(types) and unicodedata.bidirectional(text[j]) == "NSM":
                types[j] = direction
                j += 1


def _resolve_neutrals(types: list[str], base: str) -> None:
    n = len(types)
    i = 0
    while i < n:
        if types[i] not in _NEUTRALS:
            i += 1
            continue
        j = i
        while j < n and types[j] in _NEUTRALS:
            j += 1
        before = base if i == 0 else ("L" if types[i - 1] == "L" else "R")
        after = base if j == n else ("L" if types[j] == "L" else "R")
        types[i:j] = [before if before == after else base] * (j - i)
        i = j


def embedding_levels(text: str, base: Direction | None = None) -> list[int]:
    """The resolved embedding level of every character of `text` (one paragraph, logical order).

    Even levels are left-to-right, odd right-to-left; `base` defaults to `base_direction(text)`.
    """
    direction = base or base_direction(text)
    if direction == "ltr" and not has_rtl(text):
        # Nothing can resolve to R or a number level: with no R, AL or AN character, W7 turns every
        # European number into L (sos is L), brackets and neutrals then see only L, so all is level 0.
        return [0] * len(text)
    base_level = 1 if direction == "rtl" else 0
    base_type = "R" if base_level else "L"
    types = [_bidi_class(c) for c in text]
    _resolve_weak(types, base_type)
    _resolve_brackets(text, types, base_type)
    _resolve_neutrals(types, base_type)
    levels: list[int] = []
    for t in types:
        if base_level == 0:
            levels.append(1 if t == "R" else 2 if t in ("EN", "AN") else 0)
        else:
            levels.append(2 if t in ("L", "EN", "AN") else 1)
    return levels


def visual_order(items: Sequence[tuple[T, int]]) -> list[T]:
    """Reorder `(item, level)` pairs from logical to visual (left-to-right) order (UAX #9 L2).

    From the highest level down to the lowest odd level, every maximal contiguous sequence of items at
    that level or higher is reversed. Items are typically runs of a single level whose own content the
    shaper lays out in the run's direction.
    """
    order = list(items)
    if not order:
        return []
    highest = max(level for _, level in order)
    lowest_odd = min((level for _, level in order if level % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if order[i][1] < level:
                i += 1
                continue
            j = i
            while j < len(order) and order[j][1] >= level:
                j += 1
            order[i:j] = order[i:j][::-1]
            i = j
    return [item for item, _ in order]


def direction_of(level: int) -> Direction:
    """The direction a run at `level` is shaped in."""
    return "rtl" if level % 2 else "ltr"


__all__ = ["Direction", "base_direction", "direction_of", "embedding_levels", "has_rtl", "visual_order"]

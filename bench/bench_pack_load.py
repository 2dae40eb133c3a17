"""Pack loading benchmark: what the bounded YAML loader and the file checks cost, and how fast a hostile
pack is refused.

Per example pack, two pairs measured in the same run:
- `yaml safe` (baseline): PyYAML's plain SafeLoader on pack.yaml, no bounds;
  `yaml bounded`: `versa.pack.safe_yaml.parse_yaml` (size, depth, expanded nodes, duplicate keys).
- `files naive` (baseline): every file found by `rglob`, read by path and hashed (links followed);
  `files checked`: `versa.pack.loader.content_version` (no link followed, each file opened with
  O_NOFOLLOW and checked with fstat).
Then `load_pack` whole, and the time to refuse a sub-kilobyte alias bomb and 10,000-deep nesting
(the plain SafeLoader on the deep document is the baseline: it fails with a RecursionError; on the
alias bomb it would expand 387 million values, so it is not run). Run: `python bench/bench_pack_load.py`.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from harness import Results, measure
from versa.errors import PackError
from versa.pack.loader import content_version, load_pack
from versa.pack.safe_yaml import parse_yaml
from versa.render.checks import PACK_CHECKS

PACKS = Path(__file__).resolve().parent.parent / "examples" / "packs"
ALIAS_BOMB = ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)).encode()
DEEP = ("brand: acme\nlocales: " + "[" * 10_000 + "]" * 10_000 + "\n").encode()


def naive_files(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def refuse(data: bytes) -> None:
    try:
        parse_yaml(data, "pack.yaml")
    except PackError:
        return
    raise AssertionError("not refused")


def plain_deep() -> None:
    try:
        yaml.load(DEEP.decode(), Loader=yaml.SafeLoader)
    except RecursionError:
        return
    raise AssertionError("plain SafeLoader did not fail")


def pair(
    results: Results, base: str, plain: Callable[[], object], name: str, checked: Callable[[], object],
    kw: dict[str, Any], **extra: Any,
) -> None:
    """Measure baseline and candidate twice each, interleaved (A B A B), and keep each one's faster
    run: on a shared machine this removes most of the drift between the two."""
    runs = [(measure(plain, **kw), measure(checked, **kw)) for _ in range(2)]
    results.add(base, min((r[0] for r in runs), key=lambda s: s.median_ms), baseline=base, **extra)
    results.add(name, min((r[1] for r in runs), key=lambda s: s.median_ms), baseline=base)


def measure_pack(results: Results, root: Path, kw: dict[str, Any]) -> None:
    brand = root.name
    data = (root / "pack.yaml").read_bytes()
    text = data.decode()
    assert naive_files(root) == content_version(root)[0], "the checked hash must equal the naive one"
    pair(results, f"{brand}/yaml safe", lambda: yaml.load(text, Loader=yaml.SafeLoader),
         f"{brand}/yaml bounded", lambda: parse_yaml(data, "pack.yaml"), kw, nbytes=len(data))
    pair(results, f"{brand}/files naive", lambda: naive_files(root),
         f"{brand}/files checked", lambda: content_version(root), kw)
    results.add(f"{brand}/load_pack", measure(lambda: load_pack(root, checks=PACK_CHECKS), **kw), notes="parse, validate, check files")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    kw: dict[str, Any] = {"repeat": 20, "min_time": 0.3} if args.quick else {"repeat": 100, "min_time": 1.0}
    results = Results("pack_load")
    for brand in sorted(p.name for p in PACKS.iterdir() if (p / "pack.yaml").is_file()):
        measure_pack(results, PACKS / brand, kw)
    few: dict[str, Any] = {"warmup": 1, "repeat": 5, "min_time": 0.1, "max_repeat": 20}
    results.add("refuse/alias-bomb", measure(lambda: refuse(ALIAS_BOMB), **few), nbytes=len(ALIAS_BOMB),
                notes="9**9 values if expanded; plain SafeLoader not run")
    base = "plain/deep-10000"
    results.add(base, measure(plain_deep, **few), baseline=base, nbytes=len(DEEP), notes="RecursionError (was a 500)")
    results.add("refuse/deep-10000", measure(lambda: refuse(DEEP), **few), baseline=base, nbytes=len(DEEP),
                notes="a pack error naming the line")
    results.report()


if __name__ == "__main__":
    main()

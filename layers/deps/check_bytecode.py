"""Check the deps layer's byte code (run by the deps layer's Makefile with the runtime's Python).

    python3.12 layers/deps/check_bytecode.py <ARTIFACTS_DIR>/python

Every .pyc must be this interpreter's (cache tag and magic number: the runtime's, as the Makefile
checked) and unchecked-hash (flags 0b01: Python never compares it with its source, so neither the zip's
time stamps nor the read-only /opt matter). A module without one is listed; the check fails only when
a .pyc is wrong or nothing was compiled. Not shipped: the layer is what the Makefile puts in ARTIFACTS_DIR.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

UNCHECKED_HASH = (1).to_bytes(4, "little")


def main(site: Path) -> int:
    tag = sys.implementation.cache_tag
    header = importlib.util.MAGIC_NUMBER + UNCHECKED_HASH
    sources = sorted(site.rglob("*.py"))
    missing = [p for p in sources if not Path(importlib.util.cache_from_source(str(p))).is_file()]
    wrong = [
        p for p in site.rglob("*.pyc") if not p.name.endswith(f".{tag}.pyc") or p.read_bytes()[:8] != header
    ]
    for p in missing:
        print(f"deps layer: no byte code for {p.relative_to(site)} (ships as source)", file=sys.stderr)
    for p in wrong[:20]:
        print(f"deps layer: {p.relative_to(site)} is not {tag} unchecked-hash byte code", file=sys.stderr)
    if wrong or len(missing) == len(sources):
        print(
            f"deps layer: byte code check failed: {len(wrong)} wrong .pyc, "
            f"{len(missing)} of {len(sources)} modules without one",
            file=sys.stderr,
        )
        return 1
    print(
        f"deps layer: {len(sources) - len(missing)} of {len(sources)} modules byte-compiled "
        f"({tag}, magic {importlib.util.MAGIC_NUMBER.hex()}, unchecked-hash)"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: check_bytecode.py <layer>/python")
    raise SystemExit(main(Path(sys.argv[1])))

"""What the pack loader checks against that the renderer owns, in the loader's terms.

The pack sits below the renderer and never imports it; whoever loads a pack (the composition root, the
CLI, publishing, tests) hands the loader `PACK_CHECKS`: the default font families a pack may name
instead of shipping a font file, and the template check that refuses underscore attributes (which the
HTML sandbox would refuse at render time anyway).
"""

from __future__ import annotations

from versa.pack.model import PackChecks
from versa.render.fonts import FAMILIES
from versa.render.html import unsafe_accesses

PACK_CHECKS = PackChecks(font_families=frozenset(FAMILIES), unsafe_template_names=unsafe_accesses)

__all__ = ["PACK_CHECKS"]

"""The text-contrast guardrail on a generated scene: every size of the creative that draws the visual
slot in the scene's aspect class, laid out from the default context with the scene in place, checked by
the layout lint's WCAG AA contrast check (`versa.authoring.lint`: text over images is sampled where its
ink lies). The generation worker is handed this check by the composition root.
"""

from __future__ import annotations

from datetime import UTC, datetime

from versa.authoring.lint import _boxes, _contrast, _layer_paths, _params
from versa.authoring.pixels import Sampler
from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide
from versa.decide.visuals import VISUAL_PREFIX
from versa.pack.model import Pack, size_name
from versa.ports import AssetStore
from versa.render.scene import FontBook, Scene


def contrast_problems(
    pack: Pack, creative_id: str, slot: str, asset_key: str, aspect: str, *, assets: AssetStore, fonts: FontBook,
    now: datetime | None = None,
) -> list[str]:
    """Why text fails WCAG AA contrast over the stored scene `asset_key` of visual slot `slot`, at each
    size whose layer is of `aspect` (each message names the size and the layer); empty when it passes.
    Text on an opaque fill of its own (a panel, a button) is not the scene's doing and is left to lint."""
    creative = pack.model.creative(creative_id)
    ctx = resolve({}, {}, now or datetime.now(UTC), context_options(pack.model, creative_id))
    paths = _layer_paths(creative, f"creatives.{creative_id}")
    problems: list[str] = []
    sampler = Sampler()
    for size in creative.all_sizes:
        decision = decide(pack.model, creative_id, ctx, size=size)
        ref = decision.visuals.get(slot)
        if ref is None or ref.vary.get("aspect") != aspect:
            continue
        texts = {name: r.default for name, r in decision.copy.items()}
        texts.update({VISUAL_PREFIX + name: r.default for name, r in decision.visuals.items()})
        texts[VISUAL_PREFIX + slot] = asset_key
        scene = Scene(pack, decision, texts, _params(creative), 1.0, fonts, assets)
        boxes = list(_boxes(decision.layers, scene, paths, f"creatives.{creative_id}"))
        # Only text whose backdrop was sampled (what lies beneath includes the scene) is the scene's doing;
        # text on its own opaque fill is the pack's, which `versa lint` reports.
        problems += [f"{issue.path}: {issue.message.removeprefix('low-contrast: ')}"
                     for issue in _contrast(boxes, scene, size_name(size), sampler) if "(sampled:" in issue.message]
    return problems


__all__ = ["contrast_problems"]

"""The rule pack's values: the pydantic models of `pack.yaml` and the loaded `Pack` every module passes.

Every model forbids unknown fields, so a typo is an error with a location rather than a silently
ignored key. Cross-references (font tokens, colour tokens, copy slots, parameters, assets, rule
attributes and `set` targets) are checked by the loader, which reports every problem at once; what
the loader needs to know of the renderer (its font families, its template sandbox) it is handed as
`PackChecks`, so the pack never imports the renderer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from versa.context.locale import DigitsSetting, PluralCategory
from versa.context.params import ParamSpec
from versa.context.timefeatures import DEFAULT_DAYPARTS, Daypart
from versa.pack.arms import OptimizedRule
from versa.pack.assets import resolve_asset
from versa.pack.budgets import Budgets
from versa.pack.conditions import ALWAYS, CONDITION_SCHEMA, Condition, ConditionError, parse_condition
from versa.pack.links import Utm, link_problem
from versa.pack.setkeys import SetKey, parse_set

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
"""Brand, creative and layer ids: lower-case letters, digits and '-', 1-63 long, not starting with '-'."""
_IDENT_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
HEX_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_TOKEN_REF_RE = re.compile(r"^\{\{\s*tokens\.colors\.([A-Za-z0-9_-]+)\s*\}\}$")
_LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

Slug = Annotated[str, Field(pattern=SLUG)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def color_token_name(value: str) -> str | None:
    """The colour token a colour value refers to, or None when it is a literal hex colour."""
    if HEX_RE.match(value):
        return None
    match = _TOKEN_REF_RE.match(value)
    return match.group(1) if match else value


def _check_color(value: str) -> str:
    name = color_token_name(value)
    if name is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(
            f"{value!r} is not a colour: use #RGB, #RRGGBB, #RRGGBBAA, a colour token name "
            "or '{{ tokens.colors.NAME }}'"
        )
    return value


ColorRef = Annotated[
    str,
    AfterValidator(_check_color),
    Field(description="#RRGGBB[AA], a colour token name or {{ tokens.colors.NAME }}"),
]


PLACED_BY_CONTAINER: tuple[int, int, int, int] = (0, 0, 0, 0)
"""The box of a container's child before layout: its container computes the real one. A layer
outside a container must give its own box (`Creative` checks)."""


def _check_box(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    if box == PLACED_BY_CONTAINER:
        return box  # a container's child, as dumped; `Creative` refuses it outside a container
    _, _, w, h = box
    if w <= 0 or h <= 0:
        raise ValueError(f"box {list(box)}: width and height must be positive")
    return box


Box = Annotated[tuple[int, int, int, int], AfterValidator(_check_box)]
"""A layer box: x, y, width, height in creative pixels (at dpr 1)."""


# --------------------------------------------------------------------------------------------- tokens


class Tokens(Strict):
    """Design tokens: named colours, fonts and spacing that layers and rules refer to."""

    colors: dict[str, ColorRef] = Field(default_factory=dict)
    fonts: dict[str, str] = Field(
        default_factory=dict,
        description="Font name -> a pack font file (assets/X.ttf|otf|ttc) or a default family Versa provides.",
    )
    spacing: dict[str, int] = Field(default_factory=dict)

    @field_validator("colors")
    @classmethod
    def _hex_only(cls, colors: dict[str, str]) -> dict[str, str]:
        for name, value in colors.items():
            if not HEX_RE.match(value):
                raise ValueError(f"colour token {name!r}: {value!r} is not #RGB, #RRGGBB or #RRGGBBAA")
        return colors


# --------------------------------------------------------------------------------------------- layers


Length = Annotated[int, Field(ge=0, le=4000)]
"""A length in creative pixels."""


class FlexItem(Strict):
    """How a layer sits in its container (ignored outside one): CSS flexbox item properties with
    logical sides. Sizes are in creative pixels; omitted ones come from the content (text measures
    itself) or from `grow`/`shrink`."""

    grow: float = Field(default=0, ge=0, le=100, description="Share of the free space this layer takes.")
    shrink: float = Field(default=1, ge=0, le=100, description="Share of the overflow this layer gives up.")
    basis: Length | None = Field(default=None, description="Main-axis size before growing or shrinking.")
    width: Length | None = Field(default=None, description="Preferred width.")
    height: Length | None = Field(default=None, description="Preferred height.")
    min_width: Length | None = None
    max_width: Length | None = None
    min_height: Length | None = None
    max_height: Length | None = None
    align_self: Literal["auto", "start", "end", "center", "stretch"] = Field(
        default="auto", description="Cross-axis alignment of this layer; auto follows align_items."
    )
    mirror: bool = Field(
        default=True,
        description="False keeps this layer (and what it contains) where a left-to-right layout puts it "
        "in a right-to-left locale (a logo, say). A countdown reads it inside a container or not: false "
        "keeps its cells in left-to-right order (days at the left).",
    )


class LayerBase(Strict):
    id: str | None = Field(default=None, description="Name rules use to override this layer's fields.")
    visible: bool = True
    flex: FlexItem | None = Field(
        default=None,
        description="Item properties inside a container.",
        # Left out of dumps when unset, so layers outside containers hash into design keys as before.
        exclude_if=lambda flex: flex is None,
    )


class GradientStop(Strict):
    color: ColorRef
    at: float = Field(ge=0, le=1)


class Gradient(Strict):
    angle: float = Field(default=180, description="CSS-style angle in degrees; 180 runs top to bottom.")
    stops: list[GradientStop] = Field(min_length=2)

    @field_validator("stops", mode="before")
    @classmethod
    def _shorthand(cls, stops: Any) -> Any:
        # ["#fff", "#000"] spreads colours evenly; [["#fff", 0], ["#000", 1]] gives positions. A list of
        # plain values is the first form even when one is no colour, so that one alone is blamed.
        if isinstance(stops, list) and stops and all(not isinstance(s, dict | list | tuple) for s in stops):
            n = len(stops) - 1 or 1
            return [{"color": c, "at": i / n} for i, c in enumerate(stops)]
        if isinstance(stops, list) and all(isinstance(s, list | tuple) and len(s) == 2 for s in stops):
            return [{"color": c, "at": a} for c, a in stops]
        return stops


Fit = Literal["cover", "contain"]

CENTRE: tuple[float, float] = (0.5, 0.5)


def _check_focus(focus: tuple[float, float]) -> tuple[float, float]:
    if not all(0 <= v <= 1 for v in focus):
        raise ValueError(f"focus {list(focus)}: x and y must be fractions 0..1 of the image (0.5, 0.5 is its centre)")
    return focus


Focus = Annotated[
    tuple[float, float],
    AfterValidator(_check_focus),
    Field(
        description="Focal point [x, y] as fractions 0..1 of the image: `cover` crops around it, "
        "`contain` places the image towards it. Default: the centre."
    ),
]
"""Where an image's subject is, kept in view whatever the box's shape (see `render.layers.fitted`)."""


class BackgroundImage(Strict):
    asset: str
    fit: Fit = "cover"
    focus: Focus = CENTRE


class BackgroundLayer(LayerBase):
    type: Literal["background"]
    fill: ColorRef | None = None
    gradient: Gradient | None = None
    image: BackgroundImage | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("fill", "gradient", "image") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a background needs exactly one of fill, gradient, image (got {given or 'none'})"
            )
        return self


_BOX_HELP = "x, y, width, height; omitted inside a container, which places the layer."


class ImageLayer(LayerBase):
    type: Literal["image"]
    asset: str | None = Field(default=None, description="A pack image (give this or slot).")
    slot: str | None = Field(
        default=None,
        description="A visual slot of this creative: its generated scene once approved, else its default image.",
        # Left out of dumps when unset, so pack images hash into design keys as before.
        exclude_if=lambda slot: slot is None,
    )
    box: Box = Field(default=PLACED_BY_CONTAINER, description=_BOX_HELP)
    fit: Fit = "contain"
    focus: Focus = Field(
        default=CENTRE,
        # Left out of dumps at the centre, so images without a focus hash into design keys as before.
        exclude_if=lambda focus: tuple(focus) == CENTRE,
    )
    radius: int = Field(default=0, ge=0)
    opacity: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.asset is None) == (self.slot is None):
            given = [k for k in ("asset", "slot") if getattr(self, k) is not None]
            raise ValueError(f"an image needs exactly one of asset, slot (got {given or 'none'})")
        return self


Align = Literal["start", "end", "left", "right", "center"]


_DIGITS_HELP = (
    "latn (0-9) or native (the locale's own digits, e.g. Arabic-Indic for ar), or per locale "
    "({ar: native}); default: the creative's, else the pack's render.digits."
)


class TextSource(LayerBase):
    slot: str | None = Field(default=None, description="A copy slot of this creative.")
    param: str | None = Field(default=None, description="A declared parameter of this creative.")
    text: str | None = Field(
        default=None, description="A template string; {{ name }} inserts a parameter or copy slot."
    )
    digits: DigitsSetting | None = Field(default=None, description=_DIGITS_HELP)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [k for k in ("slot", "param", "text") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of slot, param, text (got {given or 'none'})")
        return self


def _size_range(value: Any) -> Any:
    if isinstance(value, int):
        return (value, value)
    return value


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    lo, hi = size
    if not 4 <= lo <= hi <= 400:
        raise ValueError(f"size {list(size)}: need 4 <= min <= max <= 400")
    return size


SizeRange = Annotated[tuple[int, int], BeforeValidator(_size_range), AfterValidator(_check_size)]
"""A font size in px, or [min, max] to auto-fit."""


class TextLayer(TextSource):
    type: Literal["text"]
    box: Box = Field(default=PLACED_BY_CONTAINER, description=_BOX_HELP)
    font: str = Field(description="A font token name.")
    size: SizeRange = Field(description="Font size in px, or [min, max] to auto-fit the box.")
    max_lines: int | None = Field(default=None, ge=1, le=20)
    align: Align = "start"
    valign: Literal["top", "middle", "bottom"] = "top"
    line_height: float = Field(default=1.2, ge=0.8, le=3)
    color: ColorRef = "#000000"


class ButtonLayer(TextSource):
    type: Literal["button"]
    box: Box = Field(
        default=PLACED_BY_CONTAINER,
        description="x, y, width, height; with auto_width the width is a maximum. " + _BOX_HELP.split("; ")[1],
    )
    font: str
    size: SizeRange = (14, 20)
    fill: ColorRef = "#000000"
    color: ColorRef = "#ffffff"
    radius: int = Field(default=8, ge=0)
    padding: tuple[int, int] = Field(default=(16, 8), description="Horizontal and vertical padding in px.")
    auto_width: bool = True
    align: Align = "start"


class Border(Strict):
    color: ColorRef
    width: int = Field(default=1, ge=1, le=50)


class ShapeLayer(LayerBase):
    type: Literal["shape"]
    shape: Literal["rect", "ellipse"] = "rect"
    box: Box = Field(default=PLACED_BY_CONTAINER, description=_BOX_HELP)
    fill: ColorRef | None = None
    border: Border | None = None
    radius: int = Field(default=0, ge=0)


PluralForms = Annotated[
    dict[PluralCategory, str],
    Field(min_length=1, description="A form per CLDR plural category: zero, one, two, few, many, other."),
]
"""A label per plural category (`{one: dzień, few: dni, many: dni}`), chosen by the locale's rules."""


class CountdownLabels(Strict):
    days: str | PluralForms = "days"
    hours: str | PluralForms = "hours"
    minutes: str | PluralForms = "minutes"
    seconds: str | PluralForms = "seconds"
    day: str | None = Field(default=None, description="Singular of days, shown when one day is left.")
    hour: str | None = Field(default=None, description="Singular of hours, shown when one hour is left.")


class CountdownLayer(LayerBase):
    """A ticking timer in unit cells, the largest unit first in reading order: days at the left in a
    left-to-right locale, at the right in a right-to-left one (`flex.mirror: false` keeps the left-to-right
    order). Inside a container it takes the size its `flex` gives, and measures what that leaves open:
    cells wide enough for two digits at `size` max (or the widest label), tall enough for the number
    above its label, scaled down together when the room is smaller (`countdown_size` in the renderer)."""

    type: Literal["countdown"]
    box: Box = Field(default=PLACED_BY_CONTAINER, description=_BOX_HELP)
    deadline: datetime | None = Field(default=None, description="An ISO date-time with offset.")
    deadline_param: str | None = Field(default=None, description="A declared datetime parameter instead.")
    font: str
    size: SizeRange = (16, 40)
    color: ColorRef = "#000000"
    fill: ColorRef | None = Field(default=None, description="Background of each unit cell.")
    label_color: ColorRef | None = None
    units: list[Literal["days", "hours", "minutes", "seconds"]] = ["days", "hours", "minutes", "seconds"]
    labels: dict[str, CountdownLabels] = Field(default_factory=dict, description="Per-locale unit labels.")
    ended: dict[str, str] = Field(
        default_factory=dict, description="Per-locale text once the deadline passed."
    )
    robust: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Per-locale time-robust text for prefetching proxies (Apple Mail Privacy Protection), "
            "e.g. 'Ends {deadline}' or 'Ends {deadline:skeleton=EEEjm}' (CLDR, the locale's words) or "
            "'Ends {deadline:%a %H:%M}' (strftime); the deadline is shown in the viewer's zone."
        ),
    )
    frames: int = Field(default=30, ge=1, le=120, description="Seconds in the animated GIF loop.")
    digits: DigitsSetting | None = Field(default=None, description=_DIGITS_HELP)

    @model_validator(mode="after")
    def _one_deadline(self) -> Self:
        if (self.deadline is None) == (self.deadline_param is None):
            raise ValueError("give exactly one of deadline, deadline_param")
        if self.deadline is not None and self.deadline.tzinfo is None:
            raise ValueError("deadline needs a UTC offset, e.g. 2026-12-24T20:00:00+01:00")
        return self


Direction = Literal["row", "column", "row-reverse", "column-reverse"]
Justify = Literal["start", "end", "center", "space-between", "space-around", "space-evenly"]


def _padding(value: Any) -> Any:
    if isinstance(value, int):
        return (value, value, value, value)
    if isinstance(value, list | tuple) and len(value) == 2:
        return (value[0], value[1], value[0], value[1])
    return value


Padding = Annotated[tuple[Length, Length, Length, Length], BeforeValidator(_padding)]
"""Padding in px: one number, [block, inline], or [top, end, bottom, start]."""


class ContainerLayer(LayerBase):
    """Lays out its children as CSS flexbox does, with logical sides: `start` is the left in a
    left-to-right locale and the right in a right-to-left one, where a row mirrors automatically."""

    type: Literal["container"]
    box: Box = Field(default=PLACED_BY_CONTAINER, description=_BOX_HELP)
    direction: Direction = Field(default="row", description="Main axis: row (inline) or column (block).")
    gap: Length = Field(default=0, description="Space between neighbouring children (and wrapped lines).")
    padding: Padding = Field(
        default=(0, 0, 0, 0), description="Inner space: a number, [block, inline] or [top, end, bottom, start]."
    )
    align_items: Literal["start", "end", "center", "stretch"] = Field(
        default="stretch", description="Children's cross-axis alignment."
    )
    justify_content: Justify = Field(default="start", description="Where free main-axis space goes.")
    wrap: bool = Field(default=False, description="Start a new line when children overflow the main axis.")
    children: list[ContainerChild] = Field(min_length=1, description="Layers placed in order.")


ContainerChild = Annotated[
    ImageLayer | TextLayer | ButtonLayer | ShapeLayer | CountdownLayer | ContainerLayer,
    Field(discriminator="type"),
]
"""What a container holds: any layer but a background (the whole canvas)."""
ContainerLayer.model_rebuild()

Layer = Annotated[
    BackgroundLayer | ImageLayer | TextLayer | ButtonLayer | ShapeLayer | CountdownLayer | ContainerLayer,
    Field(discriminator="type"),
]
LAYER_TYPES: dict[str, type[LayerBase]] = {
    "container": ContainerLayer,
    "background": BackgroundLayer,
    "image": ImageLayer,
    "text": TextLayer,
    "button": ButtonLayer,
    "shape": ShapeLayer,
    "countdown": CountdownLayer,
}

def walk_children(layer: Any, path: str) -> Iterable[tuple[str, Any]]:
    """Every layer inside `layer` (a container, else nothing), depth first, with its field path
    below `path` (`layers[2].children[1]`)."""
    if isinstance(layer, ContainerLayer):
        for i, child in enumerate(layer.children):
            child_path = f"{path}.children[{i}]"
            yield child_path, child
            yield from walk_children(child, child_path)


def countdown_layers(layers: Iterable[Any]) -> list[CountdownLayer]:
    """Every countdown among `layers`, inside containers too, in drawing (document) order."""
    out: list[CountdownLayer] = []
    for layer in layers:
        if isinstance(layer, CountdownLayer):
            out.append(layer)
        out += [child for _, child in walk_children(layer, "") if isinstance(child, CountdownLayer)]
    return out


# ----------------------------------------------------------------------------------------------- copy


VaryBy = Literal["all"] | dict[str, list[str] | Literal["*"]]


def finite_vary(vary_by: dict[str, Any]) -> dict[str, Any]:
    """`vary_by` when every bucketed attribute has exactly one catch-all bucket `other: "*"`."""
    for attr, spec in vary_by.items():
        if isinstance(spec, dict):
            stars = [name for name, vals in spec.items() if vals == "*"]
            if stars != ["other"]:
                raise ValueError(
                    f"vary_by.{attr}: buckets need exactly one catch-all bucket named 'other' "
                    f"with value '*' (got {stars or 'none'})"
                )
    return vary_by


class GenerateSpec(Strict):
    """How an LLM may write this slot's copy; the copy key hashes all of it."""

    brief: str = Field(min_length=1)
    tone: str | None = None
    max_chars: int | None = Field(default=None, ge=1, le=500)
    max_lines: int | None = Field(default=None, ge=1, le=10)
    banned: list[str] = Field(default_factory=list)
    required: list[str] = Field(default_factory=list)
    vary_by: dict[str, VaryBy] = Field(default_factory=dict)
    ttl: int = Field(default=7 * 86400, ge=60, description="Seconds generated copy stays fresh.")
    # Added with the writer; the copy key hashes each only when set (keys of older packs stay as they were).
    tone_by: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="vary_by attribute -> value or bucket -> tone; first match wins."
    )
    candidates: int = Field(default=3, ge=1, le=8, description="Candidates asked for; the first passing wins.")
    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling temperature (unset: the model's).")
    patterns: list[str] = Field(default_factory=list, description="Regular expressions copy may not match.")
    allow_links: bool = Field(default=False, description="Let copy hold URLs and e-mail addresses.")
    review: bool | None = Field(
        default=None,
        description="Generated copy waits for a reviewer's approval before it is served (unset: the "
        "creative's `review`, else the pack's). Not part of the copy key.",
    )

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"patterns: {p!r} is not a regular expression ({exc})") from None
        return patterns

    @field_validator("vary_by")
    @classmethod
    def _finite(cls, vary_by: dict[str, Any]) -> dict[str, Any]:
        return finite_vary(vary_by)


class Voice(Strict):
    """The brand's voice, given to every brief: how it writes, examples, and words it never or always uses."""

    description: str = ""
    good: list[str] = Field(default_factory=list, description="Copy that sounds like the brand.")
    bad: list[str] = Field(default_factory=list, description="Copy that does not.")
    banned: list[str] = Field(default_factory=list, description="Words no generated copy may use.")
    required: list[str] = Field(default_factory=list, description="Terms every generated copy must hold.")


class CopySlot(Strict):
    default: dict[str, str] = Field(description="Text per locale; a plain string applies to every locale.")
    generate: GenerateSpec | None = None

    @field_validator("default", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return {"*": value} if isinstance(value, str) else value


# -------------------------------------------------------------------------------------------- visuals


Quality = Literal["low", "medium", "high"]
"""The image model's quality tier: what a generated scene costs and how fine it is."""


def _hex_palette(palette: list[str]) -> list[str]:
    for i, value in enumerate(palette):
        if not HEX_RE.match(value):
            raise ValueError(f"palette[{i}]: {value!r} is not #RGB or #RRGGBB")
    return palette


class VisualStyle(Strict):
    """The brand's visual style, given to every visual brief: its palette (hex colours), mood words and
    the subjects no generated scene may show."""

    palette: Annotated[list[str], AfterValidator(_hex_palette)] = Field(
        default_factory=list, description="Hex colours scenes are painted in (the offline painter uses them)."
    )
    mood: list[str] = Field(default_factory=list, description="Mood words: calm, airy, warm light...")
    banned: list[str] = Field(
        default_factory=list, description="Subjects no scene may show (people, text, logos...): a brief that "
        "names one is refused before anything is painted.",
    )


class VisualSpec(Strict):
    """How an image model may paint this slot's scene; the visual key hashes all of it but `review`
    and `ttl`. One scene is painted per aspect class (square, landscape, portrait) and each creative
    size crops from the nearest class around `focus`."""

    brief: str = Field(min_length=1, description="A Jinja2 template: its vary_by values and `style` only.")
    vary_by: dict[str, VaryBy] = Field(default_factory=dict)
    quality: Quality = Field(default="medium", description="low, medium or high: the model's tier (and price).")
    mode: Literal["composite", "edit"] = Field(
        default="composite",
        description="composite: the product asset (PNG with alpha) is laid over the painted scene, so the "
        "product is exactly the brand's; edit: the model redraws the product photo into the scene "
        "(always reviewed).",
    )
    product: str | None = Field(default=None, description="The product image (a pack PNG with alpha).")
    focus: Focus | None = Field(
        default=None,
        description="Where the product sits in the scene [x, y] (fractions); each size crops around it. "
        "Unset: derived from the creative (the side of the image its text leaves free).",
    )
    product_height: float = Field(
        default=0.35, gt=0.05, le=1, description="The product's height as a fraction of the scene's."
    )
    review: bool = Field(
        default=True, description="Generated scenes wait for a reviewer's approval (edit mode: always)."
    )
    ttl: int = Field(default=30 * 86400, ge=3600, description="Seconds a generated scene stays fresh.")

    @field_validator("vary_by")
    @classmethod
    def _finite(cls, vary_by: dict[str, Any]) -> dict[str, Any]:
        return finite_vary(vary_by)  # the same buckets rule as copy

    @model_validator(mode="after")
    def _modes(self) -> Self:
        if self.mode == "edit" and self.product is None:
            raise ValueError("mode edit: give product, the photo the model redraws into the scene")
        if self.mode == "edit" and not self.review:
            raise ValueError("review: false is not allowed with mode edit (an edit redraws the product, "
                             "so a person approves every one)")
        return self


class VisualSlot(Strict):
    """A generated image: `default` (a pack image) serves until a generated scene is approved."""

    default: str = Field(description="A pack image shown while no approved scene exists.")
    generate: VisualSpec | None = None


# ---------------------------------------------------------------------------------------------- rules


def _parse_when(value: Any) -> Condition:
    try:
        return parse_condition(value, "when")
    except ConditionError as exc:
        raise ValueError(
            exc.message if exc.path == "when" else f"{exc.path.removeprefix('when.')}: {exc.message}"
        ) from None


When = Annotated[
    Condition,
    PlainValidator(_parse_when),
    PlainSerializer(lambda c: c.to_data(), return_type=dict),
    WithJsonSchema(CONDITION_SCHEMA),
]


class Rule(OptimizedRule, Strict):
    """A condition and the overrides it sets; with `optimize`, also arms the relevance loop chooses
    between (see `versa.pack.arms`)."""

    id: Slug
    when: When = Field(default=ALWAYS, description="Conditions on context attributes; see docs/PACKS.md.")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides applied when the rule matches.")
    note: str = ""
    _set_keys: tuple[SetKey, ...] = PrivateAttr(default=())

    def model_post_init(self, context: Any, /) -> None:
        self._set_keys = parse_set(self.set)

    @property
    def set_keys(self) -> tuple[SetKey, ...]:
        """`set` parsed once, when the rule validated, into typed keys: what the loader cross-checks
        and what `decide` applies."""
        return self._set_keys


# ------------------------------------------------------------------------------------ creative & pack


class CacheSettings(Strict):
    max_age: int = Field(default=86400, ge=0, le=31536000, description="Longest TTL a response may get.")
    stale_if_error: int = Field(default=86400, ge=0, description="How long a CDN may serve stale on errors.")
    default_copy_ttl: int = Field(default=300, ge=0, description="TTL when a copy default stood in.")
    fallback_ttl: int = Field(default=60, ge=0, description="TTL of a fallback response.")


class RenderSettings(Strict):
    jpeg_quality: int = Field(default=85, ge=30, le=100)
    webp_quality: int = Field(default=80, ge=30, le=100)
    formats: list[Literal["png", "jpg", "webp", "gif", "avif", "html"]] = [
        "png",
        "jpg",
        "webp",
        "gif",
        "html",
    ]
    digits: DigitsSetting = Field(
        default="latn",
        description="Digits of numbers, dates and times: latn (0-9), native (the locale's own), or per locale.",
    )


# ---------------------------------------------------------------------------------------------- sizes

SIZE_RE = re.compile(r"^([1-9][0-9]{1,3})x([1-9][0-9]{1,3})$")
"""A size as packs and URLs write it: ``WIDTHxHEIGHT`` in px, e.g. ``728x90``."""
SIZE_MIN, SIZE_MAX = 16, 4000


def size_problem(size: tuple[int, int], shown: str | None = None) -> str | None:
    """Why a (width, height) cannot be a creative size, or None; `shown` is how the pack wrote it."""
    if not (SIZE_MIN <= size[0] <= SIZE_MAX and SIZE_MIN <= size[1] <= SIZE_MAX):
        return f"size {shown or size_name(size)}: width and height must be {SIZE_MIN}..{SIZE_MAX} px"
    return None


def parse_size(value: Any) -> tuple[int, int]:
    """``"728x90"`` as (728, 90); raises ValueError naming the value and the form allowed."""
    match = SIZE_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a size: write WIDTHxHEIGHT in px, e.g. '728x90'")
    size = (int(match[1]), int(match[2]))
    problem = size_problem(size)
    if problem:
        raise ValueError(problem)
    return size


def size_name(size: tuple[int, int]) -> str:
    """(728, 90) as ``"728x90"`` (the form of packs and URL paths)."""
    return f"{size[0]}x{size[1]}"


SizeText = Annotated[
    tuple[int, int],
    PlainValidator(parse_size),
    PlainSerializer(size_name, return_type=str),
    WithJsonSchema({"type": "string", "pattern": SIZE_RE.pattern}),
]
"""A size written ``WIDTHxHEIGHT`` (``"728x90"``), held as (width, height)."""


class SizeWhen(Strict):
    """Which sizes a `by_size` entry applies to: one size, or an aspect-ratio (width / height) range."""

    size: SizeText | None = Field(default=None, description="One declared size, e.g. '728x90'.")
    aspect: tuple[float, float] | None = Field(
        default=None, description="[min, max] of width / height, both included, e.g. [3, 12] for wide banners."
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.size is None) == (self.aspect is None):
            raise ValueError("give exactly one of size, aspect")
        if self.aspect is not None and not 0 < self.aspect[0] <= self.aspect[1]:
            raise ValueError(f"aspect {list(self.aspect)}: need 0 < min <= max")
        return self

    def matches(self, size: tuple[int, int]) -> bool:
        if self.size is not None:
            return self.size == size
        assert self.aspect is not None
        return self.aspect[0] <= size[0] / size[1] <= self.aspect[1]


class SizeOverride(Strict):
    """`by_size` entry: `set:` (the keys rules use, in the pixels of the size rendered) applied when
    the size rendered matches `when`."""

    when: SizeWhen
    set: dict[str, Any] = Field(min_length=1, description="Overrides, as a rule's set: (lang and link excepted).")
    _set_keys: tuple[SetKey, ...] = PrivateAttr(default=())

    def model_post_init(self, context: Any, /) -> None:
        self._set_keys = parse_set(self.set)

    @property
    def set_keys(self) -> tuple[SetKey, ...]:
        return self._set_keys


def _size_or_sizes(schema: dict[str, Any]) -> None:
    """In the JSON schema a creative needs `size` or `sizes` (the model fills `size` from `sizes`)."""
    schema["required"] = [name for name in schema.get("required", []) if name != "size"]
    schema["anyOf"] = [{"required": ["size"]}, {"required": ["sizes"]}]


class Creative(Strict):
    description: str = ""
    size: tuple[int, int] = Field(description="The first (default) size, [width, height] in px.")
    sizes: list[SizeText] = Field(
        default_factory=list,
        description="Every size the creative comes in, as 'WxH' strings; the first is the default and "
        "equals size (size may then be left out).",
    )
    by_size: list[SizeOverride] = Field(
        default_factory=list, description="Overrides per size or aspect-ratio range, applied in order."
    )
    widths: list[int] = Field(default_factory=list, description="Allowed output widths; default: the size's.")
    layers: list[Layer] = Field(min_length=1)
    copy_: dict[str, CopySlot] = Field(default_factory=dict, alias="copy")
    visuals: dict[str, VisualSlot] = Field(
        default_factory=dict, description="Visual slots: image layers name them with slot:."
    )
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    link: str | None = Field(default=None, description="Where a click goes: an https URL (http with allow_http_links).")
    utm: Utm | None = Field(default=None, description="Campaign tags /click adds to the link, over the pack's.")
    alt: dict[str, str] = Field(default_factory=dict, description="Per-locale alt text template.")
    template: str | None = Field(default=None, description="HTML template under templates/ for .html.")
    fallback: str | None = Field(
        default=None,
        description="A pack image served whenever anything goes wrong (optional: without one, `versa serve` "
        "and `versa publish` draw the creative from its default context at each size).",
    )
    cache: CacheSettings | None = None
    digits: DigitsSetting | None = Field(default=None, description=_DIGITS_HELP)
    review: bool | None = Field(
        default=None,
        description="Default for this creative's generating slots: copy waits for approval (unset: the pack's).",
    )

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, json_schema_extra=_size_or_sizes
    )

    @model_validator(mode="before")
    @classmethod
    def _size_from_sizes(cls, data: Any) -> Any:
        # `size` may be left out when `sizes` is given: it is then the first of them.
        if isinstance(data, dict) and "size" not in data and isinstance(data.get("sizes"), list) and data["sizes"]:
            try:
                return {**data, "size": parse_size(data["sizes"][0])}
            except ValueError:
                return data  # `sizes` reports it
        return data

    @field_validator("layers")
    @classmethod
    def _boxes(cls, layers: list[Any]) -> list[Any]:
        for i, layer in enumerate(layers):
            if getattr(layer, "box", None) == PLACED_BY_CONTAINER:
                raise ValueError(f"layers[{i}].box: a layer outside a container needs a box [x, y, w, h]")
            for path, child in walk_children(layer, f"layers[{i}]"):
                if child.box != PLACED_BY_CONTAINER:
                    raise ValueError(f"{path}.box: its container places it; size it with flex: instead")
        return layers

    @field_validator("size")
    @classmethod
    def _size(cls, size: tuple[int, int]) -> tuple[int, int]:
        problem = size_problem(size, str(list(size)))
        if problem:
            raise ValueError(problem)
        return size

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if self.sizes and self.sizes[0] != self.size:
            raise ValueError(
                f"sizes: the first size {size_name(self.sizes[0])} must be size {size_name(self.size)} "
                "(the default size); leave size out or list it first"
            )
        seen: set[tuple[int, int]] = set()
        for s in self.sizes:
            if s in seen:
                raise ValueError(f"sizes: {size_name(s)} repeats")
            seen.add(s)
        return self

    @property
    def all_sizes(self) -> tuple[tuple[int, int], ...]:
        """Every size the creative comes in, the default first (just `size` without `sizes`)."""
        return tuple(self.sizes) if self.sizes else (self.size,)

    @field_validator("link")
    @classmethod
    def _link(cls, link: str | None) -> str | None:
        problem = None if link is None else link_problem(link, allow_http=True)  # https-only: see the loader
        if problem:
            raise ValueError(problem)
        return link

    @field_validator("copy_")
    @classmethod
    def _slot_names(cls, copy: dict[str, CopySlot]) -> dict[str, CopySlot]:
        for name in copy:
            if not _IDENT_RE.match(name):
                raise ValueError(f"copy slot name {name!r}: use lower-case letters, digits and _")
        return copy

    @field_validator("visuals")
    @classmethod
    def _visual_names(cls, visuals: dict[str, VisualSlot]) -> dict[str, VisualSlot]:
        for name in visuals:
            if not _IDENT_RE.match(name):
                raise ValueError(f"visual slot name {name!r}: use lower-case letters, digits and _")
        return visuals

    @field_validator("params")
    @classmethod
    def _param_names(cls, params: dict[str, ParamSpec]) -> dict[str, ParamSpec]:
        for name in params:
            if not _IDENT_RE.match(name):
                raise ValueError(f"parameter name {name!r}: use lower-case letters, digits and _")
        return params

    @property
    def copy_slots(self) -> dict[str, CopySlot]:
        return self.copy_

    def vary_specs(self) -> list[tuple[str, dict[str, VaryBy]]]:
        """(slot name, vary_by) of every generating copy and visual slot, copy first: what the creative's
        designs vary by besides its rules (variants, `valid_until`, lint). Visual slot names carry a
        `visual:` prefix."""
        out = [(name, slot.generate.vary_by) for name, slot in self.copy_.items() if slot.generate]
        out += [(f"visual:{name}", v.generate.vary_by) for name, v in self.visuals.items() if v.generate]
        return out

    @property
    def allowed_widths(self) -> list[int]:
        return sorted(set(self.widths) | {self.size[0]})

    def widths_at(self, size: tuple[int, int]) -> list[int]:
        """Allowed output widths at one of the creative's sizes: `allowed_widths` at the first size;
        another size renders at its own width only (`widths` are written for the first size)."""
        return self.allowed_widths if size == self.size else [size[0]]


class PackModel(Strict):
    """The whole of `pack.yaml`."""

    brand: Slug
    name: str = ""
    locales: list[str] = Field(min_length=1, description="Declared locales; the first is the default.")
    default_tz: str = Field(default="UTC", description="Zone used when a request carries none.")
    dayparts: list[Daypart] = Field(default_factory=lambda: list(DEFAULT_DAYPARTS))
    weekend: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["sat", "sun"]
    tokens: Tokens = Field(default_factory=Tokens)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)
    creatives: dict[Slug, Creative] = Field(min_length=1)
    allow_http_links: bool = Field(default=False, description="Let links (and rules' links) use http:// as well as https://.")
    voice: Voice | None = Field(default=None, description="The brand's voice for generated copy.")
    utm: Utm | None = Field(default=None, description="Campaign tags /click adds to every creative's link.")
    style: VisualStyle | None = Field(default=None, description="The brand's visual style for generated scenes.")
    review: bool = Field(
        default=False,
        description="Generated copy of every slot waits for a reviewer's approval before it is served "
        "(a creative's or a slot's `review` overrides).",
    )
    budgets: Budgets = Field(
        default_factory=Budgets,
        description="Weight budgets `versa export` checks each file against: per channel, and a creative's "
        "channel or own weight (default: 150 KB for IAB display sizes).",
    )

    @field_validator("locales")
    @classmethod
    def _locales(cls, locales: list[str]) -> list[str]:
        for loc in locales:
            if not _LOCALE_RE.match(loc):
                raise ValueError(f"locale {loc!r} is not a language tag like 'en' or 'pt-BR'")
        if len(set(locales)) != len(locales):
            raise ValueError("locales repeat")
        return locales

    @field_validator("dayparts")
    @classmethod
    def _dayparts(cls, parts: list[Daypart]) -> list[Daypart]:
        starts = [p.start for p in parts]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("dayparts must start at strictly increasing times")
        if len({p.name for p in parts}) != len(parts):
            raise ValueError("daypart names repeat")
        return parts

    @field_validator("budgets")
    @classmethod
    def _budget_creatives(cls, budgets: Budgets, info: ValidationInfo) -> Budgets:
        creatives = info.data.get("creatives")
        for cid in budgets.creatives:
            if creatives is not None and cid not in creatives:
                raise ValueError(f"creatives.{cid}: no such creative (creatives: {', '.join(creatives)})")
        return budgets

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    def utm_for(self, creative_id: str) -> Utm | None:
        """The campaign tags of a creative's clicks: its own `utm`, field by field over the pack's."""
        own = self.creative(creative_id).utm
        return own.over(self.utm) if own is not None else self.utm

    def creative(self, creative_id: str) -> Creative:
        from versa.errors import UnknownCreative

        try:
            return self.creatives[creative_id]
        except KeyError:
            raise UnknownCreative(self.brand, creative_id, sorted(self.creatives)) from None


# ------------------------------------------------------------------------------------ loaded values


@dataclass(frozen=True)
class Pack:
    """A loaded, valid pack: its model, its directory and its content version."""

    model: PackModel
    root: Path
    version: str
    files: tuple[str, ...] = field(default=(), repr=False)
    drawn_fallbacks: Mapping[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    """Fallback PNGs drawn when the pack was loaded (`versa serve`), for creatives without a `fallback`
    file: by `creative@WxH` for each of its sizes. Empty where nothing draws them (the Lambda)."""

    @property
    def brand(self) -> str:
        return self.model.brand

    def asset_path(self, ref: str) -> Path:
        return resolve_asset(self.root, ref)


@dataclass(frozen=True)
class PackChecks:
    """What loading a pack checks against that only the renderer knows, handed to the loader by its
    caller (`versa.render.checks.PACK_CHECKS` is the renderer's): the default font families a pack may
    name, and a function listing the underscore names a template reads (it raises jinja2's
    `TemplateSyntaxError` for a template that does not parse)."""

    font_families: frozenset[str]
    unsafe_template_names: Callable[[str], Iterable[str]]

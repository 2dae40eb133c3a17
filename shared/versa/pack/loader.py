"""Loading a pack directory: parse, validate, cross-check, and either return a whole Pack or raise.

Every problem is collected and reported at once as a `PackError` whose issues name the file, the field
path and the offending value. A pack with errors is never partly loaded. What only the renderer knows
(its default font families, its template sandbox) the caller hands in as `PackChecks`.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from pydantic import BaseModel, ValidationError

from versa.context.attributes import BUILTIN_ATTRIBUTES
from versa.context.locale import LocaleFormatError, format_deadline
from versa.context.model import RESERVED_QUERY_NAMES
from versa.context.params import ParamSpec
from versa.context.timefeatures import Daypart
from versa.context.visitor import VISITOR_PARAM
from versa.errors import Issue, PackError
from versa.pack.assets import (
    AssetError,
    check_font_file,
    check_image,
    iter_pack_files,
    open_image,
    read_pack_file,
    resolve_asset,
    unsafe_entries,
)
from versa.pack.conditions import Bucket, Condition
from versa.pack.links import link_problem
from versa.pack.model import (
    _IDENT_RE,
    _LOCALE_RE,
    HEX_RE,
    LAYER_TYPES,
    BackgroundLayer,
    ButtonLayer,
    CountdownLayer,
    Creative,
    ImageLayer,
    Pack,
    PackChecks,
    PackModel,
    ShapeLayer,
    Strict,
    TextLayer,
    color_token_name,
    parse_size,
    walk_children,
)
from versa.pack.overrides import check_set
from versa.pack.paths import did_you_mean, named_path
from versa.pack.safe_yaml import position, read_pack_yaml
from versa.pack.sandbox import BoundedSandbox
from versa.pack.sizes import check_sizes

PACK_FILE = "pack.yaml"
MAX_PACK_BYTES = 50 * 1024 * 1024
_TEMPLATE_ENV = BoundedSandbox(autoescape=True)  # bounded: compiling folds constants ('x' * 10**9)


def content_version(root: Path) -> tuple[str, tuple[str, ...]]:
    """A short content hash over every file of the pack (paths and bytes), and the file list. Each
    file is read without following links; a link, device, FIFO or socket is a PackError."""
    digest = hashlib.sha256()
    names: list[str] = []
    total = 0
    try:
        for entry in iter_pack_files(root):
            rel = entry.rel
            total += entry.stat.st_size
            if total > MAX_PACK_BYTES:
                raise PackError([Issue(rel, "", f"pack is larger than {MAX_PACK_BYTES // 2**20} MiB")])
            data = read_pack_file(root, rel, max_bytes=MAX_PACK_BYTES)
            names.append(rel)
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    except AssetError as exc:
        raise PackError([Issue(getattr(exc, "rel", str(root)), "", getattr(exc, "detail", str(exc)))]) from None
    return digest.hexdigest()[:12], tuple(names)


def file_issues(root: Path) -> list[Issue]:
    """One issue per pack entry that is not a folder or a regular file with one name (links, hard
    links, devices, FIFOs, sockets), each naming the file and what it is."""
    try:
        return [Issue(bad.rel, "", bad.detail) for bad in unsafe_entries(root)]
    except (AssetError, OSError) as exc:
        return [Issue(str(root), "", f"cannot be listed: {exc}")]


_TYPE_TAG = re.compile(r"^(?:tagged-union|union|literal|list|dict|tuple|set|function-\w+|nullable|is-instance)\[")


def format_loc(loc: Iterable[Any]) -> str:
    """pydantic's error location as a field path: creatives.winter-sale.layers[3].font."""
    out = ""
    parts = list(loc)
    for i, part in enumerate(parts):
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        # A discriminated union inserts the tag (e.g. 'text') after the list index: drop it.
        if i > 0 and isinstance(parts[i - 1], int) and part in LAYER_TYPES:
            continue
        # Union members and validators name themselves in the location (literal['all'], list[str],
        # function-after[...]): they are no field.
        if part in ("function-after", "function-before", "function-plain", "[key]") or _TYPE_TAG.match(str(part)):
            continue
        out += ("." if out else "") + str(part)
    return out


def _models() -> list[type[BaseModel]]:
    """Every model of pack.yaml: the pack's own and the context's it holds (parameters, dayparts)."""
    found: list[type[BaseModel]] = []
    todo: list[type[BaseModel]] = [Strict, ParamSpec, Daypart]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        found.append(cls)
    return found


def _fields(cls: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in cls.model_fields.items()}


def _fields_beside(data: Any, loc: tuple[Any, ...]) -> set[str]:
    """The fields an unknown field at `loc` could have meant: those of the model its mapping is (a
    layer by its `type`; otherwise every model holding all the mapping's other keys)."""
    parent = data
    for part in loc[:-1]:
        if (isinstance(parent, dict) and part in parent) or (isinstance(parent, list) and isinstance(part, int) and 0 <= part < len(parent)):
            parent = parent[part]
    if not isinstance(parent, dict):
        return set()
    layer = LAYER_TYPES.get(str(parent.get("type")))
    if layer is not None:
        return _fields(layer)
    others = {str(k) for k in parent} - {str(loc[-1])}
    if not others:
        return set()
    out: set[str] = set()
    for cls in _models():
        fields = _fields(cls)
        if others <= fields:
            out |= fields
    return out


_LOCATED = re.compile(r"^(layers\[\d+\](?:\.children\[\d+\])*\.\w+): (.*)$", re.S)
"""A message of `Creative`'s layer check that names the field it is about: `layers[2].box: ...`."""


_SCALAR_BRANCHES = frozenset({"str", "int", "float", "bool", "none", "date", "datetime", "time"})


def _branch_at(loc: tuple[Any, ...], start: int) -> int | None:
    """Where, from `start` on, `loc` names a member of a union (`literal['all']`, `dict[...]`, `str`)."""
    for k in range(start, len(loc)):
        part = loc[k]
        if isinstance(part, str) and (_TYPE_TAG.match(part) or part in _SCALAR_BRANCHES):
            return k
    return None


def one_per_union(errors: list[Any], start: int = 0) -> list[Any]:
    """pydantic's errors with one error per mistake: a value that fits no member of a union yields an
    error from every member; keep the member the value went deepest into (a mapping of buckets whose
    one bucket is wrong blames that bucket), and where no member went further, one error naming
    what each member wanted ("Input should be 'all' or a valid dictionary")."""
    out: list[Any] = []
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for err in errors:
        k = _branch_at(tuple(err["loc"]), start)
        if k is None:
            out.append(err)
        else:
            groups.setdefault(tuple(err["loc"][:k]), []).append(err)
    for prefix, items in groups.items():
        k = len(prefix)
        branches: dict[Any, list[Any]] = {}
        for err in items:
            branches.setdefault(err["loc"][k], []).append(err)
        if not any(_TYPE_TAG.match(str(tag)) for tag in branches):
            out += one_per_union(items, k + 1)  # names like 'str' or 'time' here are keys of the pack's data
            continue
        depth = {tag: max(len(e["loc"]) for e in errs) for tag, errs in branches.items()}
        deepest = [tag for tag in branches if depth[tag] == max(depth.values())]
        if len(deepest) == 1 or any(len(branches[tag]) > 1 or depth[tag] > k + 1 for tag in deepest):
            out += one_per_union(branches[deepest[0]], k + 1)
            continue
        wants = [str(branches[tag][0]["msg"]) for tag in deepest]
        head = "Input should be "
        said = head + " or ".join(w.removeprefix(head) for w in wants) if all(w.startswith(head) for w in wants) else "; or ".join(wants)
        first = branches[deepest[0]][0]
        out.append({**first, "loc": prefix, "msg": said, "type": "union"})
    return out


_INSIDE_WHEN = re.compile(r"^((?:[A-Za-z_][\w-]*|\[\d+\])(?:\.[A-Za-z_][\w-]*|\[\d+\])*): (.*)$", re.S)
"""A `when:` error naming its place inside the condition: `any[1].local_time.from: ...`."""


def _validation_issues(exc: ValidationError, data: Any) -> list[Issue]:
    issues = []
    for err in one_per_union(list(exc.errors(include_url=False))):
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field" + did_you_mean(str(err["loc"][-1]), _fields_beside(data, tuple(err["loc"])))
        elif err["type"] in ("missing",):
            msg = "required field is missing"
        path = format_loc(err["loc"])
        located = _LOCATED.match(msg)
        if located and path.endswith("layers"):
            path, msg = f"{path.removesuffix('layers')}{located.group(1)}", located.group(2)
        inside = _INSIDE_WHEN.match(msg) if path.endswith("when") else None
        if inside:  # a condition's error names the place inside `when:` (versa.pack.model._parse_when)
            path, msg = f"{path}.{inside.group(1)}", inside.group(2)
        if err["type"] == "union_tag_invalid":
            ctx = err.get("ctx", {})
            tag, types = str(ctx.get("tag")), re.findall(r"'([^']+)'", str(ctx.get("expected_tags", "")))
            path, msg = f"{path}.type", f"unknown layer type {tag!r}{did_you_mean(tag, types)} (types: {', '.join(types)})"
        value = err.get("input")
        if err["type"] not in ("missing", "union_tag_invalid") and not inside and not isinstance(value, dict | list):
            hint = ""
            if msg.startswith("unknown field; "):
                msg, hint = msg.split("; ", 1)
                hint = "; " + hint
            msg = f"{msg} (got {value!r}){hint}"
        issues.append(Issue(PACK_FILE, path, msg))
    return issues


def _partial_reference_issues(
    data: dict[str, Any], root: Path, reported: list[Issue], checks: PackChecks
) -> list[Issue]:
    """Cross-check the parts of an invalid pack that did validate, so one run reports everything.

    Invalid parts are patched into inert placeholders (their own errors are already in `reported`),
    and nothing is reported again under a path that already has an error.
    """
    top = _salvage_top(data)
    if top is None:
        return []
    try:
        shell = PackModel.model_validate({**top, "creatives": {"x": _MINIMAL_CREATIVE}})
    except ValidationError:
        return []
    good: dict[str, Creative] = {}
    skip: list[str] = []
    creatives = data.get("creatives")
    for cid, raw in (creatives if isinstance(creatives, dict) else {}).items():
        creative, bad_ids = _salvage_creative(raw)
        if creative is not None:
            good[str(cid)] = creative
            # Rules pointing at a layer that itself failed would only repeat that layer's error.
            skip += [
                f"creatives.{cid}.{where}.set.layers.{lid}."
                for lid in bad_ids
                for where in [
                    *(f"rules[{r}]" for r in range(len(creative.rules))),
                    *(f"by_size[{b}]" for b in range(len(creative.by_size))),
                ]
            ]
    if not good:
        return []
    seen = [i.path for i in reported if i.path]
    model = shell.model_copy(update={"creatives": good})
    return [
        i
        for i in check_references(model, root, checks)
        if not i.path.startswith(tuple(skip))
        and not any(i.path == p or i.path.startswith((p + ".", p + "[")) for p in seen)
    ]


_SALVAGE_ROUNDS = 5
_PLACEHOLDER_LAYER: dict[str, Any] = {"type": "shape", "box": [0, 0, 1, 1]}
_SIMPLE_PARAM_TYPES = ("text", "int", "number", "bool", "datetime")


def _salvage_top(data: dict[str, Any]) -> dict[str, Any] | None:
    """The pack's top level (creatives aside) with invalid parts replaced by inert values, or None."""
    patched = {k: v for k, v in data.items() if k != "creatives"}
    for _ in range(_SALVAGE_ROUNDS):
        try:
            PackModel.model_validate({**patched, "creatives": {"x": _MINIMAL_CREATIVE}})
            return patched
        except ValidationError as exc:
            errors = [e for e in exc.errors() if e["loc"] and e["loc"][0] != "creatives"]
        if not errors:
            return patched
        for err in errors:
            loc = err["loc"]
            head = str(loc[0])
            if head == "tokens":
                patched["tokens"] = _lenient_tokens(patched.get("tokens"))
            elif head == "brand":
                patched["brand"] = "x"
            elif head == "locales":
                raw = patched.get("locales")
                kept = [v for v in raw if isinstance(v, str) and _LOCALE_RE.match(v)] if isinstance(raw, list) else []
                if not kept:
                    return None
                patched["locales"] = list(dict.fromkeys(kept))
            else:
                patched.pop(head, None)
    return None


def _lenient_tokens(raw: Any) -> dict[str, Any]:
    """Tokens with every name kept (so references to them do not fail again) and bad values replaced."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    colors, fonts, spacing = raw.get("colors"), raw.get("fonts"), raw.get("spacing")
    if isinstance(colors, dict):
        out["colors"] = {
            str(k): v if isinstance(v, str) and HEX_RE.match(v) else "#000000" for k, v in colors.items()
        }
    if isinstance(fonts, dict):
        out["fonts"] = {str(k): v if isinstance(v, str) else "sans" for k, v in fonts.items()}
    if isinstance(spacing, dict):
        out["spacing"] = {
            str(k): v if isinstance(v, int) and not isinstance(v, bool) else 0 for k, v in spacing.items()
        }
    return out


def _salvage_creative(raw: Any) -> tuple[Creative | None, set[str]]:
    """The creative with its invalid parts patched: bad fields of a layer or rule dropped (or the
    whole layer/rule replaced by an inert placeholder, indices kept), bad copy slots and parameters
    replaced by plain ones of the same name, other bad fields dropped. Returns None if it still does
    not validate, and the ids of the layers replaced."""
    if not isinstance(raw, dict):
        return None, set()
    patched = copy.deepcopy(raw)
    bad_ids: set[str] = set()
    touched: set[tuple[Any, ...]] = set()
    for _ in range(_SALVAGE_ROUNDS):
        try:
            return Creative.model_validate(patched), bad_ids
        except ValidationError as exc:
            errors = exc.errors()
        for err in errors:
            if not _patch_creative(patched, err["loc"], touched, bad_ids):
                return None, bad_ids
    return None, bad_ids


def _patch_creative(
    patched: dict[str, Any], loc: tuple[Any, ...], touched: set[tuple[Any, ...]], bad_ids: set[str]
) -> bool:
    """Patch the place one validation error points at; False when the creative cannot be salvaged."""
    if not loc:
        return False
    head = str(loc[0])
    items = patched.get(head)
    if head in ("layers", "rules") and len(loc) >= 2 and isinstance(loc[1], int) and isinstance(items, list):
        if head == "layers":
            items, i, field, where = _layer_at(items, loc)
        else:
            i, field, where = loc[1], (loc[2] if len(loc) >= 3 else None), (head, loc[1])
        item = items[i]
        first = where not in touched
        touched.add(where)
        if isinstance(item, dict) and field not in (None, "id", "type") and (first or field in item):
            item.pop(field, None)
        elif head == "layers":
            bad_ids.update(_ids_within(item))
            items[i] = dict(_PLACEHOLDER_LAYER)
        else:
            items[i] = {"id": f"invalid-{i}"}
        return True
    if head == "layers":
        return False
    if head in ("copy", "params") and isinstance(items, dict):
        if len(loc) >= 2 and loc[1] in items:
            if head == "copy":
                items[loc[1]] = {"default": ""}
            else:
                spec = items[loc[1]]
                kind = spec.get("type") if isinstance(spec, dict) else None
                items[loc[1]] = {"type": kind if kind in _SIMPLE_PARAM_TYPES else "text"}
        else:  # the names themselves
            patched[head] = {k: v for k, v in items.items() if isinstance(k, str) and _IDENT_RE.match(k)}
        return True
    if head == "size":
        patched["size"] = [4000, 4000]  # as large as allowed: no layer box is blamed for it
    elif head == "sizes" and isinstance(items, list):
        # Keep the sizes that parse (layer boxes are checked at them); `by_size` is checked once they all do.
        good = []
        for entry in items:
            try:
                parse_size(entry)
                good.append(entry)
            except ValueError:
                continue
        if good and len(set(map(str, good))) == len(good):
            patched["sizes"] = good
        else:
            patched.pop("sizes", None)
        patched.pop("by_size", None)
    else:
        patched.pop(head, None)
    return True


def _layer_at(layers: list[Any], loc: tuple[Any, ...]) -> tuple[list[Any], int, Any, tuple[Any, ...]]:
    """The innermost layer an error's location names (inside containers too: ('layers', 1, 'container',
    'children', 0, 'text', 'font')): the list holding it, its index, the field blamed (None when the
    layer itself is) and the location of the layer, so a mistake deep in a container patches that
    child and not the whole container."""
    k = 1
    while True:
        i = loc[k]
        k += 1
        if k < len(loc) and loc[k] in LAYER_TYPES:
            k += 1  # a layer's field sits after the union tag
        item = layers[i] if i < len(layers) else None
        children = item.get("children") if isinstance(item, dict) else None
        if k + 1 < len(loc) and loc[k] == "children" and isinstance(loc[k + 1], int) and isinstance(children, list) and loc[k + 1] < len(children):
            layers = children
            k += 1
            continue
        return layers, i, (loc[k] if k < len(loc) else None), tuple(loc[:k])


def _ids_within(layer: Any) -> set[str]:
    """The ids of `layer` and of every layer inside it."""
    if not isinstance(layer, dict):
        return set()
    own = {str(layer["id"])} if layer.get("id") is not None else set()
    children = layer.get("children")
    return own.union(*(_ids_within(c) for c in children)) if isinstance(children, list) else own


_MINIMAL_CREATIVE = {"size": [16, 16], "layers": [{"type": "background", "fill": "#000"}]}


def load_pack(root: Path | str, *, checks: PackChecks) -> Pack:
    """Load and check the pack in `root` (against the renderer's `checks`); raise PackError listing
    every problem found."""
    root = Path(root)
    if not root.is_dir():
        raise PackError([Issue(str(root), "", "is not a pack directory")])
    bad_files = file_issues(root)
    if bad_files:
        raise PackError(bad_files, pack=root.name)
    data = read_pack_yaml(root, PACK_FILE)
    try:
        model = PackModel.model_validate(data)
    except ValidationError as exc:
        issues = _validation_issues(exc, data)
        issues += _partial_reference_issues(data, root, issues, checks)
        raise PackError(located(issues, data), pack=str(data.get("brand", root.name))) from None
    issues = list(check_references(model, root, checks))
    if issues:
        raise PackError(located(issues, data), pack=model.brand)
    version, files = content_version(root)
    return Pack(model=model, root=root, version=version, files=files)


def located(issues: Iterable[Issue], document: Any) -> list[Issue]:
    """`issues` with the line and column where each one's path is written in pack.yaml (`document`
    as `read_pack_yaml` returned it), when it can be found, and list items in the path named by their
    ids (`rules['winter-de']` rather than `rules[6]`; see `versa.pack.paths`)."""
    node = getattr(document, "node", None)
    out = []
    for issue in issues:
        if issue.file != PACK_FILE:
            out.append(issue)
            continue
        where = position(node, issue.path) if issue.line is None else None
        named = replace(issue, path=named_path(document, issue.path))
        out.append(replace(named, line=where[0], column=where[1]) if where else named)
    return out


def locate_in_pack(root: Path, issues: Iterable[Issue]) -> list[Issue]:
    """`located` for a pack on disk (lint's findings): pack.yaml is read again for its positions."""
    try:
        document = read_pack_yaml(root, PACK_FILE)
    except PackError:
        return list(issues)
    return located(issues, document)


def folder_issue(pack: Pack, folder: str) -> Issue | None:
    """The problem when the pack's brand differs from the name of the folder it is served from: the
    local server and the studio find a brand by its folder, so a mismatch would load and never serve."""
    if pack.brand == folder:
        return None
    return Issue(
        PACK_FILE,
        "brand",
        f"{pack.brand!r} differs from the folder's name {folder!r}; a brand is served from the folder of "
        "its name, so rename the folder or the brand",
    )


# ------------------------------------------------------------------------------------ cross-checks


def check_references(model: PackModel, root: Path, checks: PackChecks) -> Iterator[Issue]:
    """Everything pydantic cannot see on its own: names that must exist, files that must be sound."""
    families = checks.font_families
    for name, ref in model.tokens.fonts.items():
        path = f"tokens.fonts.{name}"
        if ref.lower().endswith((".ttf", ".otf", ".ttc")):
            try:
                check_font_file(root, ref)
            except AssetError as exc:
                yield Issue(PACK_FILE, path, str(exc))
        elif ref not in families:
            yield Issue(
                PACK_FILE,
                path,
                f"unknown font {ref!r}: name a pack file (assets/X.ttf) or one of: "
                + ", ".join(sorted(families))
                + did_you_mean(ref, families).replace("; d", " (d", 1).replace("?", "?)", 1),
            )
    for cid, creative in model.creatives.items():
        yield from _check_creative(model, root, cid, creative, checks)


def _check_color(model: PackModel, path: str, value: str | None) -> Iterator[Issue]:
    if value is None:
        return
    name = color_token_name(value)
    if name is not None and name not in model.tokens.colors:
        known = ", ".join(sorted(model.tokens.colors)) or "none declared"
        yield Issue(PACK_FILE, path, f"unknown colour token {name!r}{did_you_mean(name, model.tokens.colors)} (known: {known})")


def _check_font(model: PackModel, path: str, font: str) -> Iterator[Issue]:
    if font not in model.tokens.fonts:
        known = ", ".join(sorted(model.tokens.fonts)) or "none declared in tokens.fonts"
        yield Issue(PACK_FILE, path, f"unknown font {font!r}{did_you_mean(font, model.tokens.fonts)} (known: {known})")


def _check_asset(root: Path, path: str, ref: str, *, image: bool = True) -> Iterator[Issue]:
    try:
        check_image(root, ref) if image else resolve_asset(root, ref)
    except AssetError as exc:
        yield Issue(PACK_FILE, path, str(exc))


def template_names(source: str) -> set[str]:
    """Variables a template string reads; raises TemplateSyntaxError."""
    return set(meta.find_undeclared_variables(_TEMPLATE_ENV.parse(source)))


TEMPLATE_GLOBALS = frozenset({"lang", "locale", "brand", "creative", "daypart", "country", "tokens", "comma"})


def _check_text_source(creative: Creative, path: str, layer: TextLayer | ButtonLayer) -> Iterator[Issue]:
    if layer.slot is not None and layer.slot not in creative.copy_slots:
        known = ", ".join(sorted(creative.copy_slots)) or "none declared"
        yield Issue(PACK_FILE, f"{path}.slot", f"unknown copy slot {layer.slot!r}{did_you_mean(layer.slot, creative.copy_slots)} (known: {known})")
    if layer.param is not None and layer.param not in creative.params:
        known = ", ".join(sorted(creative.params)) or "none declared"
        yield Issue(PACK_FILE, f"{path}.param", f"unknown parameter {layer.param!r}{did_you_mean(layer.param, creative.params)} (known: {known})")
    if layer.text is not None:
        try:
            names = template_names(layer.text)
        except TemplateSyntaxError as exc:
            yield Issue(PACK_FILE, f"{path}.text", f"template syntax error: {exc.message}")
            return
        allowed = set(creative.params) | set(creative.copy_slots) | TEMPLATE_GLOBALS
        for name in sorted(names - allowed):
            yield Issue(
                PACK_FILE,
                f"{path}.text",
                f"template reads {name!r}, which is neither a parameter nor a copy slot{did_you_mean(name, allowed)}",
            )


def _check_layer(model: PackModel, root: Path, creative: Creative, path: str, layer: Any) -> Iterator[Issue]:
    if isinstance(layer, BackgroundLayer):
        yield from _check_color(model, f"{path}.fill", layer.fill)
        if layer.gradient:
            for i, stop in enumerate(layer.gradient.stops):
                yield from _check_color(model, f"{path}.gradient.stops[{i}].color", stop.color)
        if layer.image:
            yield from _check_asset(root, f"{path}.image.asset", layer.image.asset)
    elif isinstance(layer, ImageLayer):
        if layer.asset is not None:
            yield from _check_asset(root, f"{path}.asset", layer.asset)
        elif layer.slot is not None and layer.slot not in creative.visuals:
            known = ", ".join(sorted(creative.visuals)) or "none declared under visuals"
            yield Issue(PACK_FILE, f"{path}.slot", f"unknown visual slot {layer.slot!r}"
                        f"{did_you_mean(layer.slot, creative.visuals)} (known: {known})")
    elif isinstance(layer, TextLayer | ButtonLayer):
        yield from _check_font(model, f"{path}.font", layer.font)
        yield from _check_color(model, f"{path}.color", layer.color)
        if isinstance(layer, ButtonLayer):
            yield from _check_color(model, f"{path}.fill", layer.fill)
        yield from _check_text_source(creative, path, layer)
    elif isinstance(layer, ShapeLayer):
        yield from _check_color(model, f"{path}.fill", layer.fill)
        if layer.border:
            yield from _check_color(model, f"{path}.border.color", layer.border.color)
    elif isinstance(layer, CountdownLayer):
        yield from _check_font(model, f"{path}.font", layer.font)
        for key in ("color", "fill", "label_color"):
            yield from _check_color(model, f"{path}.{key}", getattr(layer, key))
        if layer.deadline_param is not None:
            spec = creative.params.get(layer.deadline_param)
            if spec is None or spec.type != "datetime":
                yield Issue(
                    PACK_FILE,
                    f"{path}.deadline_param",
                    f"{layer.deadline_param!r} must be a declared parameter of type datetime",
                )
        for loc in [*layer.labels, *layer.ended, *layer.robust]:
            if loc not in model.locales:
                yield Issue(PACK_FILE, path, f"locale {loc!r} is not declared in locales")
        for loc, text in layer.robust.items():
            try:  # any instant: a format that works for one works for all
                format_deadline(text, datetime(2026, 1, 1, tzinfo=UTC), UTC, loc)
            except LocaleFormatError as exc:
                yield Issue(PACK_FILE, f"{path}.robust.{loc}", f"{text!r}: {exc}")


def _check_creative(
    model: PackModel, root: Path, cid: str, creative: Creative, checks: PackChecks
) -> Iterator[Issue]:
    base = f"creatives.{cid}"
    ids: dict[str, str] = {}
    every = [
        item
        for i, top in enumerate(creative.layers)
        for item in [(f"layers[{i}]", top), *walk_children(top, f"layers[{i}]")]
    ]
    for rel, layer in every:
        path = f"{base}.{rel}"
        if layer.id is not None:
            if layer.id in ids:
                yield Issue(PACK_FILE, f"{path}.id", f"layer id {layer.id!r} repeats {ids[layer.id]}")
            ids[layer.id] = rel
        yield from _check_layer(model, root, creative, path, layer)
        if ".children[" in rel:
            continue  # placed by its container
        w, h = creative.size
        box = getattr(layer, "box", None)
        if box is not None and (box[0] < 0 or box[1] < 0 or box[0] + box[2] > w or box[1] + box[3] > h):
            yield Issue(PACK_FILE, f"{path}.box", f"{list(box)} extends outside the {w}x{h} creative")
    if creative.fallback is not None:
        yield from _check_asset(root, f"{base}.fallback", creative.fallback)
    yield from _check_links(model, base, creative)
    if creative.template is not None:
        yield from _check_asset(root, f"{base}.template", f"templates/{creative.template}", image=False)
        yield from _check_template(root, f"{base}.template", creative.template, checks)
    for name in creative.params:
        if name in BUILTIN_ATTRIBUTES or name in RESERVED_QUERY_NAMES:
            yield Issue(PACK_FILE, f"{base}.params.{name}", f"{name!r} is reserved; choose another name")
    for slot, spec in creative.copy_slots.items():
        for loc in spec.default:
            if loc != "*" and loc not in model.locales:
                yield Issue(
                    PACK_FILE,
                    f"{base}.copy.{slot}.default.{loc}",
                    f"locale {loc!r} is not declared in locales",
                )
        if spec.generate:
            for attr in spec.generate.vary_by:
                if attr == VISITOR_PARAM:
                    yield Issue(
                        PACK_FILE,
                        f"{base}.copy.{slot}.generate.vary_by.{attr}",
                        "vid is read only by a split (bucket:); set copy per arm in the split's rules",
                    )
                elif attr not in BUILTIN_ATTRIBUTES and attr not in creative.params:
                    yield Issue(
                        PACK_FILE,
                        f"{base}.copy.{slot}.generate.vary_by.{attr}",
                        f"unknown attribute {attr!r}{did_you_mean(attr, BUILTIN_ATTRIBUTES | set(creative.params))}",
                    )
            yield from _check_brief(f"{base}.copy.{slot}.generate", spec.generate)
    for slot, visual in creative.visuals.items():
        yield from _check_visual(model, root, creative, f"{base}.visuals.{slot}", visual)
    for w in creative.widths:
        if not 16 <= w <= 4000:
            yield Issue(PACK_FILE, f"{base}.widths", f"width {w} is outside 16..4000")
    seen_rules: set[str] = set()
    for r, rule in enumerate(creative.rules):
        path = f"{base}.rules[{r}]"
        if rule.id in seen_rules:
            yield Issue(PACK_FILE, f"{path}.id", f"rule id {rule.id!r} repeats")
        seen_rules.add(rule.id)
        yield from _check_condition(creative, f"{path}.when", rule.when)
        for key, message in check_set(model, creative, rule.set_keys, font_families=checks.font_families):
            yield Issue(PACK_FILE, f"{path}.set.{key}" if key else f"{path}.set", message)
        for a, arm in enumerate(rule.arms):
            for key, message in check_set(model, creative, arm.set_keys, font_families=checks.font_families):
                where = f"{path}.arms[{a}].set"
                yield Issue(PACK_FILE, f"{where}.{key}" if key else where, f"arm {arm.id!r}: {message}")
        if "segment" in rule.learn_by and "segment" not in creative.params:
            yield Issue(
                PACK_FILE,
                f"{path}.learn_by",
                f"rule {rule.id!r} learns by 'segment' but the creative declares no 'segment' parameter "
                "(declare params.segment, an enum with the segments as values)",
            )
    for where, message in check_sizes(model, creative, font_families=checks.font_families):
        yield Issue(PACK_FILE, f"{base}.{where}", message)


BRIEF_NAMES = frozenset({"locale", "tone", "voice"})
"""What a copy brief may read besides its vary_by attributes (versa.generate.brief renders it)."""


def _check_brief(path: str, generate: Any) -> Iterator[Issue]:
    """A brief parses and reads only its vary_by values, locale, tone and voice; tone_by names vary_by
    attributes. (So no request text or merge value can reach a prompt.)"""
    try:
        names = meta.find_undeclared_variables(BoundedSandbox().parse(generate.brief))
    except TemplateSyntaxError as exc:
        yield Issue(PACK_FILE, f"{path}.brief", f"template syntax error: {exc.message}")
        return
    allowed = set(generate.vary_by) | BRIEF_NAMES
    for name in sorted(set(names) - allowed):
        yield Issue(
            PACK_FILE, f"{path}.brief",
            f"reads {name!r}; a brief may read only its vary_by attributes ({', '.join(sorted(generate.vary_by)) or 'none'})"
            " and locale, tone, voice",
        )
    for attr in generate.tone_by:
        if attr not in generate.vary_by:
            yield Issue(PACK_FILE, f"{path}.tone_by.{attr}", f"{attr!r} is not one of the slot's vary_by attributes")


VISUAL_BRIEF_NAMES = frozenset({"style"})
"""What a visual brief may read besides its vary_by attributes (versa.generate.visual renders it)."""


def _check_visual(model: PackModel, root: Path, creative: Creative, path: str, visual: Any) -> Iterator[Issue]:
    """A visual slot's default image and product exist and decode (the product with alpha in composite
    mode); its brief parses and reads only its vary_by values and `style`; its vary_by attributes are
    known; it names no banned subject of the brand's style."""
    yield from _check_asset(root, f"{path}.default", visual.default)
    spec = visual.generate
    if spec is None:
        return
    if spec.product is not None:
        issues = list(_check_asset(root, f"{path}.generate.product", spec.product))
        yield from issues
        if not issues and spec.mode == "composite":
            image = open_image(read_pack_file(root, spec.product))
            if "A" not in image.getbands() and "transparency" not in image.info:
                yield Issue(PACK_FILE, f"{path}.generate.product",
                            f"{spec.product!r} has no alpha channel: composite mode lays the product over "
                            "the scene, so it needs a PNG or WebP with transparency around it")
    for attr in spec.vary_by:
        if attr not in BUILTIN_ATTRIBUTES and attr not in creative.params:
            yield Issue(PACK_FILE, f"{path}.generate.vary_by.{attr}",
                        f"unknown attribute {attr!r}{did_you_mean(attr, BUILTIN_ATTRIBUTES | set(creative.params))}")
    try:
        names = meta.find_undeclared_variables(BoundedSandbox().parse(spec.brief))
    except TemplateSyntaxError as exc:
        yield Issue(PACK_FILE, f"{path}.generate.brief", f"template syntax error: {exc.message}")
        return
    for name in sorted(set(names) - set(spec.vary_by) - VISUAL_BRIEF_NAMES):
        yield Issue(
            PACK_FILE, f"{path}.generate.brief",
            f"reads {name!r}; a visual brief may read only its vary_by attributes "
            f"({', '.join(sorted(spec.vary_by)) or 'none'}) and style",
        )
    banned = model.style.banned if model.style else []
    lowered = spec.brief.casefold()
    for word in banned:
        if re.search(rf"\b{re.escape(word.casefold())}\b", lowered):
            yield Issue(PACK_FILE, f"{path}.generate.brief",
                        f"names {word!r}, a subject the brand's style.banned forbids in scenes")


def _check_template(root: Path, path: str, name: str, checks: PackChecks) -> Iterator[Issue]:
    """A template must parse, and may not reach for underscore attributes (sandbox escape attempts)."""
    try:
        source = read_pack_file(root, f"templates/{name}").decode("utf-8")
    except (AssetError, OSError, UnicodeDecodeError):
        return  # reported by the asset check
    where = f"templates/{name}"
    try:
        unsafe = sorted(set(checks.unsafe_template_names(source)))
    except TemplateSyntaxError as exc:
        yield Issue(where, f"line {exc.lineno}", f"template syntax error: {exc.message}")
        return
    if unsafe:
        yield Issue(
            where, path, f"template reads {', '.join(unsafe)}: underscore attributes are refused by the sandbox"
        )


def _check_links(model: PackModel, base: str, creative: Creative) -> Iterator[Issue]:
    """The creative's link must be https (http only with the pack's allow_http_links)."""
    if creative.link is not None:
        problem = link_problem(creative.link, allow_http=model.allow_http_links)
        if problem:
            yield Issue(PACK_FILE, f"{base}.link", problem)


def _check_condition(creative: Creative, path: str, cond: Condition) -> Iterator[Issue]:
    reported: set[str] = set()
    for node in cond.walk():
        if isinstance(node, Bucket) and node.key not in creative.params and node.key != VISITOR_PARAM:
            reported.add(node.key)
            yield Issue(
                PACK_FILE, path, f"bucket key {node.key!r} must be a declared parameter or vid (the visitor id)"
            )
        elif not isinstance(node, Bucket) and VISITOR_PARAM in node.own_attributes():
            yield Issue(
                PACK_FILE,
                path,
                "vid is the visitor's bucket and is read only by a split: bucket: {salt: TEXT, pct: [FROM, TO]}",
            )
    for attr in sorted(cond.attributes() - reported):  # one error per mistake
        if attr not in BUILTIN_ATTRIBUTES and attr not in creative.params:
            known = ", ".join(sorted(BUILTIN_ATTRIBUTES | set(creative.params)))
            hint = did_you_mean(attr, BUILTIN_ATTRIBUTES | set(creative.params))
            yield Issue(PACK_FILE, path, f"unknown attribute {attr!r}{hint} (known: {known})")

"""Spec variants of a sweep: other specs, or partial TOML layered over the base spec.

A variant in the TOML layout is merged over the base spec's TOML before validation. Tables
([plan], [accounts], [search] and nested tables) merge key by key, and arrays
([[criteria]], [[territories]]) replace the base's array as a whole. A variant that lists
only [[criteria]] therefore reorders or replaces the criteria and keeps everything else,
and a complete spec file replaces every key it sets. A variant given as a `PlanSpec` is
used as it is.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from smartplan.errors import SpecError
from smartplan.spec import PlanSpec, spec_from_dict

BASE = "base"

SpecSource = PlanSpec | str | Path | Mapping[str, Any]


def resolve_variants(
    spec: SpecSource,
    variants: Mapping[str, SpecSource] | Sequence[str | Path] | None = None,
) -> dict[str, PlanSpec]:
    """Return the validated specs of a sweep by variant name, the base spec first as "base".

    `variants` maps names to specs, or lists TOML files named by their stem.
    """
    base_layer, base_spec = _load(spec, None, "spec")
    resolved = {BASE: base_spec}
    for name, source in _named(variants):
        if name in resolved:
            raise SpecError(
                f"variant name {name!r} is used twice (the base spec is named {BASE!r}); "
                "rename the variant file or give another name"
            )
        try:
            _, resolved[name] = _load(source, base_layer, f"variant {name!r}")
        except SpecError as error:
            if base_layer is not None or isinstance(source, PlanSpec):
                raise
            raise SpecError(
                f"{error}. The base spec is a PlanSpec, so variant {name!r} must be a "
                "complete spec; to layer a partial variant, pass the base spec as a TOML "
                "file or dict"
            ) from None
    return resolved


def merge_layers(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` over `base`: tables key by key, every other value replaced."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_layers(current, value)
        else:
            merged[key] = value
    plan = override.get("plan")
    # A territory count and a [[territories]] table exclude each other, so the layer that
    # sets one drops the base's other.
    if isinstance(plan, Mapping) and "territories" in plan and "territories" not in override:
        merged.pop("territories", None)
    if "territories" in override and isinstance(merged.get("plan"), Mapping):
        merged["plan"] = {k: v for k, v in merged["plan"].items() if k != "territories"}
    return merged


def _named(
    variants: Mapping[str, SpecSource] | Sequence[str | Path] | None,
) -> list[tuple[str, SpecSource]]:
    if variants is None:
        return []
    if isinstance(variants, Mapping):
        return [(str(name), source) for name, source in variants.items()]
    if isinstance(variants, str | Path):
        variants = [variants]
    return [(Path(path).stem, path) for path in variants]


def _load(
    source: SpecSource, base_layer: Mapping[str, Any] | None, label: str
) -> tuple[dict[str, Any] | None, PlanSpec]:
    """Return the TOML layer of `source` (None for a `PlanSpec`) and its validated spec."""
    if isinstance(source, PlanSpec):
        return None, source
    if isinstance(source, str | Path):
        layer = _read_toml(Path(source))
        origin = str(source)
    elif isinstance(source, Mapping):
        layer = dict(source)
        origin = label
    else:
        raise SpecError(
            f"{label} is a {type(source).__name__}; give a PlanSpec, a TOML file or a dict "
            "in the TOML layout"
        )
    if base_layer is None:
        return layer, spec_from_dict(layer, source=origin)
    return layer, spec_from_dict(merge_layers(base_layer, layer), source=origin)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"spec file not found: {path}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"invalid TOML in spec {path}: {error}") from None

"""View and search parameters: names (Feder's camelCase, snake_case accepted), defaults and
validation. Unknown names raise ``TypeError`` listing the valid ones; bad values raise
:class:`~feder.errors.ParameterError` naming the key and what is allowed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ParameterError
from .families import family_of
from .layouts.projection import PROJECT_METHODS

PANEL_WIDTH = 260
"""CSS pixels of the side panel beside the drawing (sent to the front end)."""
HEADER_HEIGHT = 40
"""CSS pixels of the tab bar above the drawing (sent to the front end)."""
MIN_DRAWING_WIDTH = 420
"""Below this drawing width the panel moves under the drawing instead of beside it."""


def _int_range(low: int, high: int) -> Callable[[str, Any], int]:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ParameterError(f"{key} must be an integer in {low} … {high}, got {value!r}")
        return value

    return check


def _choice(*allowed: str) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        if value not in allowed:
            raise ParameterError(f"{key} must be one of {', '.join(map(repr, allowed))}, "
                                 f"got {value!r}")
        return str(value)

    return check


def _flag(key: str, value: Any) -> bool:
    if value not in (True, False, 0, 1):
        raise ParameterError(f"{key} must be true/false (or 1/0), got {value!r}")
    return bool(value)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ParameterError(f"{key} must be a string, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class ViewParams:
    """Resolved view parameters (see :data:`VIEW_PARAMS` for their meaning)."""

    width: int = 950
    height: int = 600
    fineSearchWithProjection: bool = True
    projectMethod: str = "pca"
    projectSeed: int = 0
    numOfLevels: int = 3
    membersPerList: int = 9
    thumbSize: int = 128
    theme: str = "auto"
    title: str = ""
    diagnose: bool = True


VIEW_PARAMS: dict[str, tuple[Callable[[str, Any], Any], str]] = {
    "width": (_int_range(320, 4000), "view width in CSS pixels"),
    "height": (_int_range(240, 3000), "view height in CSS pixels"),
    "fineSearchWithProjection": (_flag, "add the projection tab to IVF searches"),
    "projectMethod": (_choice(*PROJECT_METHODS),
                      "'pca' (instant) or 'umap' (≈ 1 s first call in a process)"),
    "projectSeed": (_int_range(0, 2**31 - 1), "seed of the UMAP projection"),
    "numOfLevels": (_int_range(1, 16), "HNSW levels shown in the overview"),
    "membersPerList": (_int_range(0, 64), "thumbnails per IVF cluster, nearest first"),
    "thumbSize": (_int_range(16, 512), "thumbnail size in pixels for local images"),
    "theme": (_choice("auto", "light", "dark"), "colour theme"),
    "title": (_text, "heading shown above the view and in reports"),
    "diagnose": (_flag, "compare each search with the exact top-k: recall, missed neighbours"),
}


def camel(name: str) -> str:
    """``fine_search_with_projection`` → ``fineSearchWithProjection``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def resolve_view_params(given: Mapping[str, Any], base: ViewParams | None = None) -> ViewParams:
    """Validate ``given`` (camelCase or snake_case keys) over ``base`` (defaults)."""
    values = dict((base or ViewParams()).__dict__)
    for key, value in given.items():
        name = camel(key)
        if name not in VIEW_PARAMS:
            valid = ", ".join(f"{k} ({desc})" for k, (_, desc) in VIEW_PARAMS.items())
            raise TypeError(f"unknown view parameter {key!r}; valid ones: {valid}")
        values[name] = VIEW_PARAMS[name][0](key, value)
    return ViewParams(**values)


_ALIASES = {"ef": "ef_search", "efSearch": "ef_search", "topK": "k"}


# A parameter whose family default is None is read from the index: the file's nprobe (IVF);
# the file's efSearch (faiss HNSW; hnswlib files record none, so the family's 16 stays).
_FROM_INDEX = {"nprobe": "nprobe", "ef_search": "ef_search"}
_FALLBACK = {"nprobe": 1, "ef_search": 16}


def default_search_params(kind: str, index: Any = None) -> dict[str, int]:
    """The search parameters a new :class:`~feder.FederPy` starts with for ``kind``: the
    family's defaults, where the index records its own value (faiss's ``nprobe`` and
    ``efSearch``) that one."""
    out: dict[str, int] = {}
    for name, (default, _) in family_of(kind).search_params.items():
        stored = getattr(index, _FROM_INDEX.get(name, ""), None)
        if isinstance(stored, (int, np.integer)) and not isinstance(stored, bool) and \
                stored >= 1 and (default is None or name == "ef_search"):
            out[name] = int(stored)
        else:
            out[name] = _FALLBACK.get(name, 1) if default is None else default
    return out


def resolve_search_params(kind: str, given: Mapping[str, Any], base: Mapping[str, int],
                          ) -> dict[str, int]:
    """Validate search parameters for an index ``kind``; returns the merged dict."""
    valid = family_of(kind).search_params
    out = dict(base)
    for key, value in given.items():
        name = _ALIASES.get(key, key)
        if name not in valid:
            listed = ", ".join(f"{k} ({meaning})" for k, (_, meaning) in valid.items())
            raise TypeError(f"unknown search parameter {key!r} for this index; valid ones: "
                            f"{listed}")
        out[name] = _int_range(1, 1 << 20)(key, value)
    return out

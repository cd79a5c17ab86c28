"""Index kinds grouped into families. A family has one trace shape and one set of views, so
a new index kind joins by adding a row to :data:`FAMILY_OF_KIND` — session, serialize and the
front end look the family up instead of testing kinds one by one.

The view list (id, label, order) is sent to the browser in ``view_params["views"]``; the
front end's registry (``js/src/views.js``) maps each id to the scene that draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Family:
    """``views``: ``(id, label)`` pairs in tab order (the family's own views, then the
    diagnostic views it has); ``search_view``: the view a new search opens on;
    ``search_params``: user-facing search parameters with their defaults and meaning
    (``None`` = read from the index); ``diagnostics``: the ids of the diagnostic views
    (:data:`DIAGNOSTIC_VIEWS`) that mean something for this family."""

    name: str
    views: tuple[tuple[str, str], ...]
    search_view: str
    search_params: dict[str, tuple[int | None, str]]
    diagnostics: tuple[str, ...] = ()


DIAGNOSTIC_VIEWS: tuple[tuple[str, str], ...] = (
    ("sweep", "Sweep"), ("health", "Health"), ("compare", "Compare"))
"""The diagnostic views (:meth:`feder.FederPy.sweep`, ``health``, ``compare``): a family
lists those it has; the front end hides their tabs while their data is not there."""


def _diagnostic_views(*ids: str) -> tuple[tuple[str, str], ...]:
    return tuple(view for view in DIAGNOSTIC_VIEWS if view[0] in ids)


CODES_VIEW = ("codes", "Codes")
"""Code distance against true distance, for a search of lossy codes (PQ, SQ; the kinds
:data:`feder.diagnose.kinds.KINDS` marks ``codes``): the search payload carries its data
(``payload["codes"]``) only then, and the front end hides the tab without it."""

_ALL_DIAGNOSTICS = ("sweep", "health", "compare")
_FLAT_DIAGNOSTICS = ("compare",)
"""A flat scan has no nprobe / ef to sweep and no lists or links whose health to show."""

FAMILIES: dict[str, Family] = {
    "ivf": Family(
        "ivf",
        (("overview", "Overview"), ("coarse", "Coarse search"), ("fine", "Fine search"),
         ("projection", "Projection"), CODES_VIEW, *_diagnostic_views(*_ALL_DIAGNOSTICS)),
        search_view="coarse",
        search_params={"k": (5, "results to return"),
                       "nprobe": (None, "inverted lists to probe (default: the file's)")},
        diagnostics=_ALL_DIAGNOSTICS,
    ),
    "graph": Family(
        "graph",
        (("overview", "Overview"), ("search", "Search"), CODES_VIEW,
         *_diagnostic_views(*_ALL_DIAGNOSTICS)),
        search_view="search",
        search_params={"k": (5, "results to return"),
                       "ef_search": (16, "beam width on level 0 (alias ef)")},
        diagnostics=_ALL_DIAGNOSTICS,
    ),
    "flat": Family(
        "flat",
        (("overview", "Overview"), ("fine", "Distances"), ("projection", "Projection"),
         CODES_VIEW, *_diagnostic_views(*_FLAT_DIAGNOSTICS)),
        search_view="fine",
        search_params={"k": (5, "results to return")},
        diagnostics=_FLAT_DIAGNOSTICS,
    ),
}

FAMILY_OF_KIND: dict[str, str] = {"ivf_flat": "ivf", "hnsw": "graph", "flat": "flat",
                                  "ivf_idmap": "ivf", "faiss_hnsw": "graph",
                                  "ivf_sq": "ivf", "ivf_pq": "ivf",
                                  "ivf_hnsw_flat": "ivf"}


WRAPPERS: dict[str, str] = {"pretransform": "inner"}
"""Wrapper kinds → the attribute holding the model they wrap. A wrapper (a faiss
pre-transform) belongs to its inner model's family: the views draw the inner model (in the
space it stores), the search goes through the wrapper, and search parameters are the inner
model's."""


def unwrapped(index: Any) -> Any:
    """The model the views draw and whose search parameters apply: ``index`` itself, or for
    a wrapper (:data:`WRAPPERS`) the model inside it."""
    while index.kind in WRAPPERS:
        index = getattr(index, WRAPPERS[index.kind])
    return index


def view_note(index: Any) -> str:
    """A caption for the views of ``index``: what a wrapper did before its inner model was
    searched (``""`` for other models)."""
    notes = []
    while index.kind in WRAPPERS:
        notes.append(str(getattr(index, "view_note", "")))
        index = getattr(index, WRAPPERS[index.kind])
    return "; ".join(note for note in notes if note)


def family_of(kind: str) -> Family:
    """The family of an index kind (``"ivf_flat"`` → IVF, ``"hnsw"`` → graph)."""
    return FAMILIES[FAMILY_OF_KIND[kind]]


def views_with(family: Family, diagnostics: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``family``'s views with the diagnostic views ``diagnostics`` added in their usual
    place (a live engine sweeps its own search parameter, whatever its local model)."""
    own = tuple(view for view in family.views if view not in DIAGNOSTIC_VIEWS)
    return own + _diagnostic_views(*family.diagnostics, *diagnostics)

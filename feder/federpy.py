"""``FederPy``: the notebook entry point, compatible with Zilliz's federpy call style.

>>> f = FederPy("faiss.index", "faiss", mediaUrls=paths, width=950, height=600)
>>> f.overview()
>>> f.setSearchParams({"k": 5, "nprobe": 6}).searchById(40)
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import trace as tracer
from .diagnose import Explanation, explain
from .diagnose import sweep as diagnose_sweep
from .diagnose.checks import SUPPORTED_KINDS as EXPLAINED_KINDS
from .errors import ParameterError
from .index import as_model, load_index
from .media import MediaStore
from .model import HNSWIndex, IndexModel, IVFFlatIndex
from .params import default_search_params, resolve_search_params, resolve_view_params
from .serialize import Payload
from .serialize import compare as compare_payload
from .serialize import sweep as sweep_payload
from .session import ViewSession
from .trace import SearchTrace
from .widget import FederWidget, SearchRunner, Shown


class FederPy:
    """An index ready to be explored in a notebook.

    ``index``: a file path, bytes, a ``faiss.Index``, an ``hnswlib.Index`` or an index loaded
    with :func:`feder.load_index`. ``source``: ``"faiss"``/``"hnswlib"`` (detected if omitted).
    ``mediaUrls``: per-id images (URLs or local paths) or texts (``mediaType="text"``).
    ``space``: hnswlib metric (``l2``/``ip``/``cosine``). Other keyword arguments are view
    parameters (see :data:`feder.params.VIEW_PARAMS`); unknown ones raise ``TypeError``.
    """

    def __init__(self, index: Any, source: str | None = None, *,
                 mediaUrls: Sequence[Any] | Mapping[Any, Any] | None = None,
                 mediaType: str = "img", space: str | None = None, **viewParams: Any):
        params = resolve_view_params(viewParams)
        self.index: IndexModel = index if isinstance(index, (HNSWIndex, IVFFlatIndex)) else \
            as_model(load_index(index, source, space=space))
        self.media = MediaStore(mediaUrls, mediaType, params.thumbSize)
        self.session = ViewSession(self.index, self.media, params)
        self.search_params: dict[str, int] = default_search_params(
            self.index.kind, int(getattr(self.index, "nprobe", 1)))

    def setSearchParams(self, params: Mapping[str, Any] | None = None, **kwargs: Any,
                        ) -> FederPy:
        """Set ``k`` and ``nprobe`` (IVF) or ``ef_search`` (HNSW); returns ``self``."""
        given = dict(params or {}) | kwargs
        self.search_params = resolve_search_params(self.index.kind, given, self.search_params)
        return self

    def setViewParams(self, **viewParams: Any) -> FederPy:
        """Change view parameters (a new layout is computed when the box size changes)."""
        params = resolve_view_params(viewParams, self.session.params)
        self.media.thumb_size = params.thumbSize
        self.session = ViewSession(self.index, self.media, params)
        return self

    def overview(self) -> FederWidget:
        """The index at a glance: IVF cluster map or HNSW upper levels."""
        return FederWidget(self.session)

    def search(self, query: Any) -> SearchTrace:
        """The trace of a search with the current search parameters (no widget)."""
        params = dict(self.search_params)
        return tracer.search(self.index, query, params.pop("k"), **params)

    def searchByVec(self, vector: Any, targetMedia: Any = None,
                    widget: FederWidget | None = None) -> FederWidget:
        """Search with a vector; ``targetMedia`` (an image path/URL, or a text such as "A
        white dog.") is shown as the query. With ``widget``, that widget shows the new search
        in place (only the trace is sent)."""
        return self._show(vector, None, targetMedia, widget)

    def searchById(self, ident: Any, widget: FederWidget | None = None) -> FederWidget:
        """Search with the stored vector of an id (faiss id / hnswlib label); ``widget`` as
        in :meth:`searchByVec`."""
        return self._show(self.index.vector(ident), int(ident), None, widget)

    def searchRandTestVec(self, seed: int | None = None) -> FederWidget:
        """Search with a random stored vector (a quick way to see the index work)."""
        index = self.index
        ids = index.labels[~index.deleted] if isinstance(index, HNSWIndex) else index.ids
        rng = np.random.default_rng(seed)
        return self.searchById(int(ids[rng.integers(ids.size)]))

    def health(self) -> FederWidget:
        """The index at a glance (:func:`feder.health`): IVF list sizes on a log scale, empty
        lists and the imbalance factor; HNSW degrees per level and unreachable nodes."""
        return FederWidget(self.session, view="health",
                           diagnostics={"health": self.session.health})

    def sweep(self, queries: Any = None, values: Sequence[int] | None = None,
              k: int | None = None, sample: int = 100, seed: int = 0) -> FederWidget:
        """Recall@k against the work done (distance computations) at each nprobe (IVF) or
        ef (HNSW) in ``values`` (default: powers of two / 16 … 256), over ``queries``
        (``(nq, d)``; default ``sample`` stored vectors). Click a point to see the search of
        the query with the lowest recall at that value."""
        index = self.index
        if queries is None:
            queries = self.sample_queries(sample, seed)
        k = int(self.search_params["k"] if k is None else k)
        name = "nprobe" if isinstance(index, IVFFlatIndex) else "ef"
        result = diagnose_sweep(index, queries, k,
                                **({name: list(values)} if values is not None else {}))
        qs = np.asarray(queries, np.float32).reshape(-1, index.dim)
        worst = np.argmin(result.per_query, axis=1)
        searches = []
        for value, q in zip(result.params.tolist(), worst.tolist(), strict=True):
            trace, explanation = self._run(qs[q], {"k": k, name: value})
            searches.append(self.session.search_payload(trace, None, None, explanation))
        payload = sweep_payload(result, searches, worst)
        return FederWidget(self.session, view="sweep", diagnostics={"sweep": payload})

    def sample_queries(self, count: int = 100, seed: int = 0) -> np.ndarray:
        """``(min(count, ntotal), d) float32`` stored vectors picked at random (seeded), in
        storage order: queries whose exact neighbours include themselves."""
        index = self.index
        rows = np.sort(np.random.default_rng(seed).choice(
            index.ntotal, size=min(count, index.ntotal), replace=False))
        return np.asarray(index.vectors[rows], np.float32)

    def compare(self, left: FederWidget, right: FederWidget,
                titles: tuple[str, str] | None = None) -> FederWidget:
        """Two searches (two parameter sets, or two indexes) side by side: their results
        diffed (shared, only left, only right) with each one's recall."""
        for w in (left, right):
            if not w.search:
                raise ParameterError("compare needs two search widgets (searchById / "
                                     "searchByVec), got an overview")
        names = titles or (_describe(left.search), _describe(right.search))
        payload = compare_payload(left.search, right.search, names)
        return FederWidget(self.session, view="compare", diagnostics={"compare": payload})

    def export_html(self, path: str | pathlib.Path, searches: Sequence[FederWidget] = (),
                    title: str | None = None, include_overview: bool = True, *,
                    remote_media: bool = False) -> pathlib.Path:
        """One self-contained HTML report: the overview and any number of searches (or
        sweep / health / compare widgets). ``remote_media``: keep http(s) images as links the
        page loads (it then says how many); by default they show as placeholders and the
        page loads nothing from the network."""
        from .export import write_html

        widgets = ([self.overview()] if include_overview else []) + list(searches)
        return write_html(path, [w.export_state() for w in widgets],
                          title or self.session.params.title or "feder report",
                          remote_media=remote_media)

    def _run(self, query: Any, params: Mapping[str, int],
             ) -> tuple[SearchTrace, Explanation | None]:
        """One search with ``params`` (k, nprobe / ef_search), explained against the exact
        top-k unless the view parameter ``diagnose`` is off."""
        rest = dict(params)
        k = rest.pop("k")
        if not self.session.params.diagnose or self.index.kind not in EXPLAINED_KINDS:
            return tracer.search(self.index, query, k, **rest), None
        explanation = explain(self.index, query, k, **rest)
        return explanation.trace, explanation

    def _show(self, query: Any, target_id: int | None, target_media: Any,
              widget: FederWidget | None) -> FederWidget:
        query = np.asarray(query)

        def run(params: Mapping[str, int]) -> Shown:
            trace, explanation = self._run(query, params)
            payload = self.session.search_payload(trace, target_id, target_media, explanation)
            payload["control"] = self.session.search_control(params)
            return Shown(trace, payload, explanation)

        runner = SearchRunner(self.index.kind, dict(self.search_params), run)
        shown = runner.run(runner.params)
        if widget is not None:
            return widget.show_search(shown, runner)
        return FederWidget(self.session, shown, runner=runner)

    def __repr__(self) -> str:
        return f"FederPy({self.index!r}, search_params={self.search_params})"


    # snake_case spellings of the same calls
    set_search_params = setSearchParams
    set_view_params = setViewParams
    search_by_vec = searchByVec
    search_by_id = searchById
    search_rand_test_vec = searchRandTestVec


def _describe(search: Payload) -> str:
    """``"nprobe 8"`` from a search payload's parameters."""
    params = search.get("params", {})
    return " · ".join(f"{name} {value}" for name, value in params.items() if name != "k") or \
        "search"

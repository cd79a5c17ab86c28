"""``FederPy``: the notebook entry point, compatible with Zilliz's federpy call style.

>>> f = FederPy("faiss.index", "faiss", mediaUrls=paths, width=950, height=600)
>>> f.overview()
>>> f.setSearchParams({"k": 5, "nprobe": 6}).searchById(40)
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import trace as tracer
from .arrays import sample_rows
from .diagnose import Explanation, explain
from .diagnose import sweep as diagnose_sweep
from .diagnose.checks import diagnosable
from .diagnose.kinds import unwrap
from .errors import ParameterError
from .index import as_model, load_index
from .integrations import Documents
from .media import MediaStore
from .model import HNSWIndex, IndexModel, IVFFlatIndex
from .params import default_search_params, resolve_search_params, resolve_view_params
from .serialize import Payload
from .serialize import compare as compare_payload
from .serialize import sweep as sweep_payload
from .session import ViewSession, model_lock
from .trace import SearchTrace
from .widget import FederWidget, SearchRunner, Shown

BACKGROUND_DIAGNOSIS_FLOATS = 64 << 20
"""A search widget diagnoses in a background thread when the exact truth would read more
than this many floats (``ntotal · d``; 64M floats = 256 MB of vectors, ≈ 0.1–0.3 s of
brute force): the search shows at once with "checking recall…", and its diagnosis follows
(:meth:`feder.widget.FederWidget.wait_diagnosis`). 10M×128 takes ≈ 0.8 s of brute force."""


class FederPy:
    """An index ready to be explored in a notebook.

    ``index``: a file path, bytes, a ``faiss.Index``, an ``hnswlib.Index`` or an index loaded
    with :func:`feder.load_index`. ``source``: ``"faiss"``/``"hnswlib"`` (detected if omitted).
    ``mediaUrls``: per-id images (URLs or local paths) or texts (``mediaType="text"``).
    ``space``: hnswlib metric (``l2``/``ip``/``cosine``). ``vectors`` (``(ntotal, d)``, in
    the order they were added) and ``vector_ids`` (their ids, when the index was given ids):
    the original vectors of an index with lossy codes (PQ, SQ), so that every diagnosis is
    against exact truth and shows ``quantization`` misses (without them the truth is over the
    decoded codes; see :func:`feder.exact_search`). Other keyword arguments are view
    parameters (see :data:`feder.params.VIEW_PARAMS`); unknown ones raise ``TypeError``.

    ``index`` may also be a vector store (:mod:`feder.integrations`): a live LangChain
    ``FAISS`` or LlamaIndex ``VectorStoreIndex`` / ``FaissVectorStore``, or the folder one
    saved; its ids name the items and its texts are the media unless ``mediaUrls`` is given.
    ``allow_dangerous_deserialization``: unpickle LangChain's ``index.pkl`` (a file you
    trust only; by default it is read as inert data).

    ``index`` may also be a live engine source (:mod:`feder.sources`): where the engine's
    index is readable the views come from it exactly as for files (each search is also asked
    of the engine and compared: ``engine_check``); otherwise they show the ENGINE's answers
    against exact truth on a local model of its vectors, labelled "model of the engine, not a
    replay". ``searchById`` then takes the engine's ids (``"img_0042"``); media come from the
    source's ``media_field`` unless ``mediaUrls`` is given.
    """

    def __init__(self, index: Any, source: str | None = None, *,
                 mediaUrls: Sequence[Any] | Mapping[Any, Any] | None = None,
                 mediaType: str = "img", space: str | None = None,
                 allow_dangerous_deserialization: bool = False, vectors: Any = None,
                 vector_ids: Any = None, **viewParams: Any):
        from .sources.base import is_source

        self.source: Any = None
        self.engine: Any = None
        self.engine_search_params: dict[str, int] = {}
        self.documents: Documents | None = None
        """A vector store's ids and texts per faiss id (LangChain, LlamaIndex), else None."""
        self.truth_vectors: tuple[Any, Any] = (vectors, vector_ids)
        """``(vectors, vector_ids)``: the original vectors of an index with lossy codes, for
        exact truth in every diagnosis (see :func:`feder.exact_search`) and as the query of
        :meth:`searchById`, or ``(None, None)``."""
        if is_source(index):
            from .sources.views import EngineView

            self.source, self.engine = index, EngineView(index)
            if mediaUrls is None:
                mediaUrls = self.engine.media()
            if viewParams.get("title") is None:
                viewParams["title"] = self.engine.title()
        if self.engine is not None:
            self.index: IndexModel = self.engine.model
        elif isinstance(index, (HNSWIndex, IVFFlatIndex)):
            self.index = index
        else:
            loaded = load_index(index, source, space=space,
                                allow_dangerous_deserialization=allow_dangerous_deserialization)
            self.index, self.documents = as_model(loaded), loaded.documents
        docs = self.documents
        if docs is not None:  # a vector store: its texts are the media, its ids the names
            if mediaUrls is None and docs.texts is not None:
                mediaUrls, mediaType = docs.texts, "text"
            if viewParams.get("title") is None:
                viewParams["title"] = f"{docs.origin} · {self.index.ntotal} vectors"
        params = resolve_view_params(viewParams)
        self.media = MediaStore(mediaUrls, mediaType, params.thumbSize)
        self.session = self._new_session(params)
        self.search_params: dict[str, int] = default_search_params(self.session.index.kind,
                                                                   self.session.index)
        if self.engine is not None:
            self._engine_defaults()

    def _names(self) -> Callable[[int], str] | None:
        """A live engine's own ids as the views' names for their numeric ids."""
        engine, docs = self.engine, self.documents
        if docs is not None and docs.names is not None:
            return docs.name
        return None if engine is None else (lambda view_id: str(engine.engine_id(view_id)))

    def _engine_defaults(self) -> None:
        """Start from the parameters the engine searches with by default."""
        from .sources.diagnose import replay_params

        src = self.source
        defaults = replay_params(src, {})
        if src.engine == "chroma":
            defaults = {"ef": int(src.ef_search)}
        if self.engine.replay:
            named = {("ef_search" if key == "ef" else key): value
                     for key, value in defaults.items()}
            self.search_params = resolve_search_params(self.session.index.kind, named,
                                                       self.search_params)
        else:
            self.engine_search_params = dict(defaults)

    @property
    def engine_check(self) -> Any:
        """The last search asked of the engine (a live source only): its answer and whether
        feder's replay returned the same ids (:class:`feder.sources.views.EngineCheck`)."""
        return None if self.engine is None else self.engine.last

    def setSearchParams(self, params: Mapping[str, Any] | None = None, **kwargs: Any,
                        ) -> FederPy:
        """Set ``k`` and ``nprobe`` (IVF) or ``ef_search`` (HNSW); returns ``self``."""
        given = dict(params or {}) | kwargs
        if self.engine is not None and not self.engine.replay:
            name = self.source.param_name
            for key in ("nprobe", "nprobes", "ef", "ef_search", "efSearch", "hnsw_ef"):
                if key in given:
                    value = given.pop(key)
                    if name is None or (key.startswith("nprobe") != (name == "nprobe")):
                        raise TypeError(f"unknown search parameter {key!r} for this "
                                        f"{self.source.engine} index; valid ones: k"
                                        f"{', ' + name if name else ''}")
                    self.engine_search_params[name] = self.source.search_params(
                        {name: value})[name]
        self.search_params = resolve_search_params(self.session.index.kind, given,
                                                   self.search_params)
        return self

    def setViewParams(self, **viewParams: Any) -> FederPy:
        """Change view parameters (a new layout is computed when the box size changes)."""
        params = resolve_view_params(viewParams, self.session.params)
        self.media.thumb_size = params.thumbSize
        self.session = self._new_session(params)
        return self

    def _new_session(self, params: Any) -> ViewSession:
        """The views' session with these view parameters; a live engine that takes a search
        parameter also has the sweep view (it sweeps the engine, whatever its local model)."""
        source = self.source
        engine_sweeps = source is not None and getattr(source, "param_name", None) is not None
        return ViewSession(self.index, self.media, params, self._names(),
                           vectors=self.truth_vectors[0], vector_ids=self.truth_vectors[1],
                           diagnostics=("sweep",) if engine_sweeps else ())

    def overview(self) -> FederWidget:
        """The index at a glance: IVF cluster map or HNSW upper levels."""
        return FederWidget(self.session)

    def search(self, query: Any) -> SearchTrace:
        """The trace of a search with the current search parameters (no widget)."""
        params = dict(self.search_params)
        if self.engine is not None and not self.engine.replay:
            trace, _ = self.engine.answer_trace(query, params.pop("k"),
                                                dict(self.engine_search_params))
            return trace  # type: ignore[no-any-return]
        return tracer.search(self.index, query, params.pop("k"), **params)

    def searchByVec(self, vector: Any, targetMedia: Any = None,
                    widget: FederWidget | None = None) -> FederWidget:
        """Search with a vector; ``targetMedia`` (an image path/URL, or a text such as "A
        white dog.") is shown as the query. With ``widget``, that widget shows the new search
        in place (only the trace is sent)."""
        return self._show(vector, None, targetMedia, widget)

    def searchById(self, ident: Any, widget: FederWidget | None = None) -> FederWidget:
        """Search with the stored vector of an id (faiss id / hnswlib label; for a live
        source, the engine's id such as ``"img_0042"``; for a vector store, its document /
        node id or the faiss id); ``widget`` as in :meth:`searchByVec`."""
        if self.documents is not None:
            ident = self.documents.ident(ident)
        if self.engine is not None:
            view_id = self.engine.view_id(ident)
            return self._show(self.source.vector(ident), view_id, None, widget)
        return self._show(self._vector_of(ident), int(ident), None, widget)

    def _vector_of(self, ident: Any) -> np.ndarray:
        """``(dim,) float32`` the query for id ``ident``: its original vector when
        ``vectors=`` were given (an index with lossy codes stores only their decoded
        approximation, which is not what a user searches with), else the stored one."""
        stored = self.index.vector(ident)  # also checks that the index holds the id
        given, given_ids = self.truth_vectors
        if given is None:
            return stored
        if given_ids is None:  # rows in the order added: the inner index's own numbering
            row = int(unwrap(self.index).inner_ids(np.array([int(ident)], np.int64))[0])
        else:
            rows = np.flatnonzero(np.asarray(given_ids) == int(ident))
            row = int(rows[0]) if rows.size else -1
        if not 0 <= row < len(given):
            return stored
        return np.asarray(given[row], np.float32)

    def searchRandTestVec(self, seed: int | None = None) -> FederWidget:
        """Search with a random stored vector (a quick way to see the index work)."""
        index = self.index
        rng = np.random.default_rng(seed)
        if self.engine is not None:
            return self.searchById(self.engine.engine_id(int(rng.integers(index.ntotal))))
        ids = index.labels[~index.deleted] if isinstance(index, HNSWIndex) else index.ids
        return self.searchById(int(ids[rng.integers(ids.size)]))

    def health(self) -> FederWidget:
        """The index at a glance (:func:`feder.health`): IVF list sizes on a log scale, empty
        lists and the imbalance factor; HNSW degrees per level and unreachable nodes. A flat
        index has no health view (a scan has no lists or links): :class:`ParameterError`."""
        self._diagnostic_view("health")
        return FederWidget(self.session, view="health",
                           diagnostics={"health": self.session.health})

    def sweep(self, queries: Any = None, values: Sequence[int] | None = None,
              k: int | None = None, sample: int = 100, seed: int = 0) -> FederWidget:
        """Recall@k against the work done (distance computations) at each nprobe (IVF) or
        ef (HNSW) in ``values`` (default: powers of two / 16 … 256), over ``queries``
        (``(nq, d)``; default ``sample`` stored vectors). Click a point to see the search of
        the query with the lowest recall at that value. A flat index has nothing to sweep:
        :class:`ParameterError`."""
        index = self.index
        if self.engine is None:
            self._diagnostic_view("sweep")
        if queries is None:
            queries = self.sample_queries(sample, seed)
        k = int(self.search_params["k"] if k is None else k)
        if self.engine is not None:
            return self._engine_sweep(queries, values, k)
        name = "nprobe" if "nprobe" in self.session.family.search_params else "ef"
        vectors, vector_ids = self.truth_vectors
        result = diagnose_sweep(index, queries, k, vectors=vectors, vector_ids=vector_ids,
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
        storage order: queries whose exact neighbours include themselves (the original
        vectors when they were given: ``vectors=``, else what the index stores)."""
        index = self.index
        given = self.truth_vectors[0]
        rows = sample_rows(index.ntotal, count, seed)
        return np.asarray((index.vectors if given is None else given)[rows], np.float32)

    def _diagnostic_view(self, view: str) -> None:
        """Refuse a diagnostic view this index's family does not have (a flat scan has no
        sweep or health), saying why."""
        family = self.session.family
        if view not in family.diagnostics:
            raise ParameterError(
                f"a {family.name} index ({self.index.kind}) has no {view} view: a scan "
                "compares the query with every vector, so there is no nprobe / ef to sweep "
                "and no lists or links to check; its searches are diagnosed in the search "
                f"view (diagnostic views: {', '.join(family.diagnostics)})")

    def compare(self, left: FederWidget, right: FederWidget,
                titles: tuple[str, str] | None = None) -> FederWidget:
        """Two searches (two parameter sets, or two indexes) side by side: their results
        diffed (shared, only left, only right) with each one's recall."""
        for w in (left, right):
            if not w.search:
                raise ParameterError("compare needs two search widgets (searchById / "
                                     "searchByVec), got an overview")
            w.wait_diagnosis()  # each one's recall (a big index diagnoses in the background)
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

    def _run(self, query: Any, params: Mapping[str, int], diagnose: bool = True,
             ) -> tuple[SearchTrace, Explanation | None]:
        """One search with ``params`` (k, nprobe / ef_search), explained against the exact
        top-k unless the view parameter ``diagnose`` (or ``diagnose``) is off."""
        rest = dict(params)
        k = rest.pop("k")
        if not (diagnose and self.session.params.diagnose and diagnosable(self.index)):
            return tracer.search(self.index, query, k, **rest), None
        vectors, vector_ids = self.truth_vectors
        explanation = explain(self.index, query, k, vectors=vectors, vector_ids=vector_ids,
                              **rest)
        return explanation.trace, explanation

    def _engine_sweep(self, queries: Any, values: Sequence[int] | None, k: int,
                      ) -> FederWidget:
        """:meth:`sweep` of a live source: the ENGINE searched at each value."""
        src = self.source
        name = src.param_name
        if name is None:
            raise ParameterError(f"this {src.engine} index takes no search parameter to sweep")
        from .sources.diagnose import sweep_source

        result = sweep_source(src, queries, k,
                              **({name: list(values)} if values is not None else {}))
        qs = np.asarray(queries, np.float32).reshape(-1, src.dim)
        worst = np.argmin(result.per_query, axis=1)
        view_name = "ef_search" if name == "ef" else name
        searches = []
        for value, q in zip(result.params.tolist(), worst.tolist(), strict=True):
            params = {"k": k, view_name: value} if self.engine.replay else {"k": k}
            searches.append(self._search_payload(qs[q], None, None, params,
                                                 {name: value})[1])
        shown = result
        if not result.work_known:  # the engine reports no work: the axis shows the values
            import dataclasses

            shown = dataclasses.replace(result, distances=result.params.astype(np.float64))
        payload = sweep_payload(shown, searches, worst)  # type: ignore[arg-type]
        payload["engine"] = {"engine": src.engine, "answered_by": list(result.answered_by),
                             "work_known": result.work_known,
                             "replay_agreement": [None if not np.isfinite(v) else float(v)
                                                  for v in result.replay_agreement.tolist()]}
        session = self.session
        if not result.work_known:  # say so where the axis is read
            title = f"{session.params.title or src.engine} · sweep x axis: {name} values " \
                    f"({src.engine} reports no distance computations)"
            session = self._new_session(resolve_view_params({"title": title},
                                                            session.params))
        widget = FederWidget(session, view="sweep", diagnostics={"sweep": payload})
        widget.engine_sweep = result
        return widget

    def _search_payload(self, query: Any, target_id: int | None, target_media: Any,
                        params: Mapping[str, int], engine_params: Mapping[str, int] | None = None,
                        diagnose: bool = True,
                        ) -> tuple[SearchTrace, Payload, Explanation | None]:
        """One search's trace, payload and explanation (none when ``diagnose`` is false);
        for a live source the engine is asked too (replay: compared; otherwise: its answer
        is what is shown)."""
        engine = self.engine
        if engine is not None and not engine.replay:
            eparams = dict(self.engine_search_params if engine_params is None else engine_params)
            trace, diagnosis = engine.answer_trace(query, int(params["k"]), eparams)
            payload = self.session.search_payload(trace, target_id, target_media, None)
            if self.session.params.diagnose:
                payload["diagnosis"] = engine.diagnosis_payload(diagnosis, payload["fine"])
            payload["params"] = dict(trace.params)
            payload["engine"] = self._engine_facts(engine.last, None)
            return trace, payload, None
        with model_lock(self.index):  # a background diagnosis may be replaying meanwhile
            trace, explanation = self._run(query, params, diagnose)
            payload = self.session.search_payload(trace, target_id, target_media, explanation)
        if engine is not None:
            check = engine.check(np.asarray(query, np.float32), int(params["k"]),
                                 dict(params), trace.ids)
            payload["engine"] = self._engine_facts(check, check.same if check else None)
        return trace, payload, explanation

    def _engine_facts(self, check: Any, same: bool | None) -> Payload:
        from .sources.views import MODEL_LABEL, REPLAY_LABEL

        engine = self.engine
        answer = None if check is None else check.answer
        return {"engine": self.source.engine, "name": self.source.name,
                "label": REPLAY_LABEL if engine.replay else MODEL_LABEL,
                "engine_ids": [] if answer is None else [str(i) for i in answer.ids],
                "same_as_replay": same,
                "error": "" if check is None else check.error}

    def background_diagnosis(self) -> bool:
        """Whether a search widget diagnoses in a background thread: diagnosis on, and the
        exact truth would read more than :data:`BACKGROUND_DIAGNOSIS_FLOATS` floats (a
        live engine's own diagnosis is never deferred)."""
        index = self.index
        return (self.engine is None and self.session.params.diagnose and diagnosable(index)
                and index.ntotal * index.dim > BACKGROUND_DIAGNOSIS_FLOATS)

    def _show(self, query: Any, target_id: int | None, target_media: Any,
              widget: FederWidget | None) -> FederWidget:
        query = np.asarray(query)

        def run(params: Mapping[str, int]) -> Shown:
            session = self.session
            if not self.background_diagnosis():
                trace, payload, explanation = self._search_payload(
                    query, target_id, target_media, params)
                payload["control"] = session.search_control(params)
                return Shown(trace, payload, explanation)
            # A big index: the search now, its diagnosis later (FederWidget runs `diagnose`
            # in a background thread; a report calls it before writing).
            trace, payload, _ = self._search_payload(query, target_id, target_media, params,
                                                     diagnose=False)
            payload["control"] = control = session.search_control(params)
            payload["diagnosis_pending"] = True

            def diagnose() -> Shown:
                explanation = session.explain(query, params)
                with model_lock(self.index):
                    diagnosed = session.search_payload(explanation.trace, target_id,
                                                       target_media, explanation)
                diagnosed["control"] = control
                return Shown(explanation.trace, diagnosed, explanation)

            return Shown(trace, payload, None, diagnose)

        runner = SearchRunner(self.session.index.kind, dict(self.search_params), run)
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

"""The notebook widget (anywidget). Data arrives ready from :class:`~feder.session.ViewSession`;
the ESM in ``feder/static/`` only draws it."""

from __future__ import annotations

import math
import pathlib
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import anywidget
import numpy as np
import traitlets

from .errors import FederError, ParameterError
from .media import MediaItem
from .params import resolve_search_params
from .serialize import Payload
from .session import ViewSession
from .trace import SearchTrace

if TYPE_CHECKING:
    from .diagnose import Explanation

STATIC = pathlib.Path(__file__).parent / "static"
INITIAL_MEDIA = 60  # thumbnails sent with the widget; the rest are fetched when shown
REPORT_STEPS = 12  # searches precomputed for a report's parameter control
REPORT_STEP_BYTES = 4 << 20
"""Array bytes a report's precomputed searches may take together: a large nprobe / ef scans
most of the index, and one such search can weigh tens of MB in a report."""


class Shown(NamedTuple):
    """One search ready to show: its trace, its payload and, when diagnosed, its
    :class:`~feder.diagnose.Explanation` against the exact top-k. ``diagnose``: set when
    the diagnosis is still to come (a big index; the payload then says
    ``"diagnosis_pending": True``) — it computes it and returns this search diagnosed."""

    trace: SearchTrace
    payload: Payload
    explanation: Explanation | None
    diagnose: Callable[[], Shown] | None = None

    def diagnosed(self) -> Shown:
        """This search with its diagnosis (computed now if it was still to come)."""
        return self if self.diagnose is None else self.diagnose()


class SearchRunner:
    """Re-runs one query with other search parameters: what the widget's nprobe / ef
    control calls in the kernel, and what a report's precomputed steps come from.

    ``run(params)`` → :class:`Shown` for a full parameter dict (``k`` and nprobe /
    ef_search); ``params`` holds the ones last run.
    """

    def __init__(self, kind: str, params: dict[str, int],
                 run: Callable[[Mapping[str, int]], Shown]):
        self.kind = kind
        self.params = dict(params)
        self._run = run

    def run(self, params: Mapping[str, int]) -> Shown:
        shown = self._run(params)
        self.params = dict(params)
        return shown

    def with_changes(self, given: Mapping[str, Any]) -> dict[str, int]:
        """The current parameters with ``given`` validated and applied (``TypeError`` /
        :class:`~feder.ParameterError` for unknown names or bad values)."""
        return resolve_search_params(self.kind, dict(given), self.params)

    def steps(self, control: Payload, limit: int = REPORT_STEPS,
              budget: int = REPORT_STEP_BYTES) -> Payload:
        """Searches at up to ``limit`` values of the control (the current one included), for
        a report whose control cannot ask a kernel: ``{"name", "values", "searches"}``. The
        smallest values are kept first until their payloads pass ``budget`` bytes; the
        current value is always kept."""
        values = [int(v) for v in control.get("values", [])]
        current = int(control["value"])
        if len(values) > limit:  # powers of two first (the usual nprobe / ef grid), then thin
            round_ = [v for v in values if v & (v - 1) == 0 or v in (values[-1], current)]
            values = round_ if len(round_) <= limit else values
        if len(values) > limit:
            others = [v for v in values if v != current]
            pick = np.unique(np.linspace(0, len(others) - 1, limit - 1).round().astype(int))
            values = sorted({others[i] for i in pick.tolist()} | {current})
        # a report has no kernel to send a diagnosis later: each is computed now
        kept: dict[int, Payload] = {current: self._run({**self.params, control["name"]:
                                                          current}).diagnosed().payload}
        spent = payload_nbytes(kept[current])
        for v in sorted(set(values) - {current}):  # cheap (small) values first
            payload = self._run({**self.params, control["name"]: v}).diagnosed().payload
            spent += payload_nbytes(payload)
            if spent > budget:
                break
            kept[v] = payload
        values = sorted(kept)
        return {"name": control["name"], "values": values,
                "searches": [kept[v] for v in values]}


def payload_nbytes(payload: Any) -> int:
    """Bytes of the arrays and byte strings in a payload (nested dicts / lists): what it adds
    to a report, give or take the JSON around them."""
    if isinstance(payload, np.ndarray):
        return int(payload.nbytes)
    if isinstance(payload, (bytes, bytearray, memoryview, str)):
        return len(payload)
    if isinstance(payload, Mapping):
        return sum(payload_nbytes(v) for v in payload.values())
    if isinstance(payload, (list, tuple)):
        return sum(payload_nbytes(v) for v in payload)
    return 8


class FederWidget(anywidget.AnyWidget):
    """Shows an index overview, or one search through it. ``trace`` is the search's
    :class:`~feder.trace.SearchTrace`; ``selected_ids`` / ``selected_list`` follow clicks.

    On a big index (:data:`feder.federpy.BACKGROUND_DIAGNOSIS_FLOATS`) a search shows at
    once and its diagnosis is computed in a background thread, then sent (the ``search``
    trait is replaced; until then it says ``"diagnosis_pending": True`` and the header
    says "checking recall…"). A newer search supersedes a pending diagnosis: only the
    newest is computed next and an older one is never shown. :attr:`explanation` waits for
    it; :meth:`wait_diagnosis` waits with a timeout."""

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    overview = traitlets.Dict().tag(sync=True)
    search = traitlets.Dict().tag(sync=True)
    media = traitlets.Dict().tag(sync=True)
    view = traitlets.Unicode("overview").tag(sync=True)
    view_params = traitlets.Dict().tag(sync=True)
    diagnostics = traitlets.Dict().tag(sync=True)
    selected_ids: Any = traitlets.List().tag(sync=True)
    selected_list = traitlets.Int(-1).tag(sync=True)

    def __init__(self, session: ViewSession, shown: Shown | None = None,
                 view: str | None = None, runner: SearchRunner | None = None,
                 diagnostics: Payload | None = None):
        self._session = session
        self._trace = shown.trace if shown else None
        self._explanation = shown.explanation if shown else None
        self._runner = runner
        self._diagnosis = threading.Condition(threading.RLock())
        """Guards the search shown, its explanation and the pending diagnosis; notified
        when a diagnosis arrives or fails."""
        self._generation = 0  # the search shown (show_search counts them)
        self._awaiting: int | None = None  # the search whose diagnosis is still to come
        self._job: tuple[int, Callable[[], Shown]] | None = None  # for the worker
        self._worker: threading.Thread | None = None
        self._diagnosis_error: BaseException | None = None
        search = shown.payload if shown else None
        trace = self._trace
        family = session.family
        if view is None:
            view = "overview" if search is None else family.search_view
        valid = tuple(view for view, _ in session.views)
        if view not in valid:
            raise ValueError(f"view must be one of {valid}, got {view!r}")
        super().__init__(
            overview=session.overview,
            search=search or {},
            media=self._media_state(session.initial_media(trace, INITIAL_MEDIA,
                                                          self._explanation)),
            view=view,
            view_params=session.view_params(),
            diagnostics=diagnostics or {},
        )
        self.on_msg(self._on_message)
        if shown is not None and shown.diagnose is not None:
            with self._diagnosis:
                self._expect(shown.diagnose)

    def show_search(self, shown: Shown, runner: SearchRunner | None = None) -> FederWidget:
        """Replace the search shown, in place: only the new trace's payload (and the media
        it needs) is sent; the overview stays where it is. A diagnosis still to come
        (``shown.diagnose``) follows from the background thread; a pending one of the
        search replaced is dropped."""
        with self._diagnosis:
            self._generation += 1
            self._awaiting = self._job = None
            self._diagnosis_error = None
            self._trace = shown.trace
            self._explanation = shown.explanation
            if runner is not None:
                self._runner = runner
            media = self._session.initial_media(shown.trace, INITIAL_MEDIA,
                                                shown.explanation)
            self.media = self._media_state({**self.media.get("items", {}), **media})
            self.search = shown.payload
            if self.view == "overview":
                self.view = self._session.family.search_view
            if shown.diagnose is not None:
                self._expect(shown.diagnose)
            self._diagnosis.notify_all()
        return self

    # ---- diagnosis in the background (a big index)

    def _expect(self, diagnose: Callable[[], Shown]) -> None:
        """Queue the diagnosis of the search shown now (the caller holds the lock); one
        worker thread per widget computes the newest queued one."""
        self._awaiting = self._generation
        self._job = (self._generation, diagnose)
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._diagnose_loop, daemon=True,
                                            name="feder-diagnosis")
            self._worker.start()
        self._diagnosis.notify_all()

    def _diagnose_loop(self) -> None:
        """The worker: compute the queued diagnosis, deliver it if its search is still the
        one shown; exit when nothing is queued."""
        while True:
            with self._diagnosis:
                if self._job is None:
                    self._worker = None
                    return
                generation, diagnose = self._job
                self._job = None
            try:
                shown: Shown | None = diagnose()
                error: BaseException | None = None
            except BaseException as exc:  # shown as a message, never a silent hang
                shown, error = None, exc
            self._deliver(generation, shown, error)

    def _deliver(self, generation: int, shown: Shown | None, error: BaseException | None,
                 ) -> None:
        """Show the diagnosis of search ``generation`` (or say why it failed) — unless a
        newer search replaced it meanwhile."""
        with self._diagnosis:
            if generation != self._generation:
                return  # superseded: never show a diagnosis of another search
            self._awaiting = None
            if shown is None:
                self._diagnosis_error = error
                message = f"{type(error).__name__}: {error}"
                self.search = {**self.search, "diagnosis_pending": False,
                               "diagnosis_error": message}
            else:
                self._trace = shown.trace
                self._explanation = shown.explanation
                media = self._session.initial_media(shown.trace, INITIAL_MEDIA,
                                                    shown.explanation)
                if media:
                    self.media = self._media_state({**self.media.get("items", {}), **media})
                self.search = shown.payload
            self._diagnosis.notify_all()

    @property
    def diagnosis_pending(self) -> bool:
        """The diagnosis of the search shown is still being computed (in the background)."""
        with self._diagnosis:
            return self._awaiting is not None

    def wait_diagnosis(self, timeout: float | None = None) -> bool:
        """Wait until the search shown has its diagnosis (or it failed, or there is none to
        wait for); ``False`` if ``timeout`` seconds passed first."""
        with self._diagnosis:
            return self._diagnosis.wait_for(lambda: self._awaiting is None, timeout)

    def _media_state(self, items: dict[str, MediaItem]) -> dict[str, Any]:
        """``media_type`` is ``None`` when there is no media at all: the front end then
        shows ids and distances and never asks the kernel for thumbnails."""
        store = self._session.media
        return {"media_type": store.media_type if store.media is not None else None,
                "items": items}

    @property
    def trace(self) -> SearchTrace | None:
        """The search this widget shows (``None`` for an overview)."""
        return self._trace

    @property
    def explanation(self) -> Explanation | None:
        """The search checked against the exact top-k: ``recall``, ``missed`` (with their
        reasons). ``None`` for an overview or with ``diagnose=False``.

        On a big index the diagnosis is computed in the background: reading this waits for
        it (about a second at 10M vectors; :meth:`wait_diagnosis` waits with a timeout and
        :attr:`diagnosis_pending` does not wait), and raises the error it failed with."""
        with self._diagnosis:
            self._diagnosis.wait_for(lambda: self._awaiting is None)
            if self._diagnosis_error is not None:
                raise self._diagnosis_error
            return self._explanation

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Messages from the page: ``{"type": "search", "params": {...}}`` re-runs the
        search (see :meth:`_on_search`); ``{"type": "media", ...}`` asks for thumbnails."""
        if isinstance(content, dict) and content.get("type") == "search":
            self._on_search(content.get("params"))
            return
        if isinstance(content, dict) and content.get("type") == "path":
            self._on_path(content.get("node"))
            return
        self._on_media(content)

    def _on_path(self, node: Any) -> None:
        """The entry route of a clicked HNSW overview node (computed for that node only)."""
        try:
            if isinstance(node, bool) or not isinstance(node, int):
                raise ParameterError(f"node must be an integer, got {node!r}")
            reply = {"type": "path", **self._session.node_path(node)}
        except FederError as exc:
            reply = {"type": "path", "node": node if isinstance(node, int) else -1,
                     "nodes": [], "levels": [], "error": str(exc)}
        self.send(reply)

    def _on_search(self, given: Any) -> None:
        """Re-run the query with other parameters (the view's nprobe / ef control); only
        the new search payload is sent. A bad value is answered with an error message."""
        runner = self._runner
        try:
            if runner is None:
                raise ParameterError("this widget has no search to re-run")
            if not isinstance(given, dict):
                raise ParameterError(f"search params must be an object, got {given!r}")
            shown = runner.run(runner.with_changes(given))
        except (FederError, TypeError) as exc:
            self.send({"type": "search-error", "message": str(exc)})
            return
        self.show_search(shown)

    def _on_media(self, content: Any) -> None:
        """A ``{"type": "media", "ids": [...]}`` request from the page: always answered.

        Only ids that exist in the index reach the media store (so a ``mediaUrls``
        function is never called with arbitrary numbers); other requested integers get a
        placeholder, anything else (NaN, strings, booleans, …) is ignored, and any failure
        becomes placeholders instead of an exception out of the handler."""
        if not isinstance(content, dict) or content.get("type") != "media":
            return
        items: dict[str, MediaItem] = {}
        try:
            valid, unknown = self._requested_ids(content.get("ids"))
            items = {str(i): {"kind": "missing", "reason": f"id {i} is not in the index"}
                     for i in unknown}
            items.update(self._session.media.items(valid))
        except Exception as exc:  # the kernel must never lose the reply
            reason = f"media failed: {type(exc).__name__}: {exc}"
            for ident in _integers(content.get("ids")):
                items.setdefault(str(ident), {"kind": "missing", "reason": reason})
        reply, buffers = message_media(items)
        self.send({"type": "media", "items": reply}, buffers)

    def _requested_ids(self, raw: Any) -> tuple[list[int], list[int]]:
        """``(ids in the index, other integers)`` among the first :data:`MAX_REQUEST` of
        ``raw``."""
        index = self._session.index
        valid: list[int] = []
        unknown: list[int] = []
        for ident in _integers(raw):
            (valid if _has_id(index, ident) else unknown).append(ident)
        return valid, unknown

    def export_state(self) -> dict[str, Any]:
        """Trait values for :mod:`feder.export`, with more thumbnails embedded and, for a
        search, the searches at other nprobe / ef values precomputed (``steps``): a report
        has no kernel to ask, so a diagnosis still being computed is waited for first."""
        self.wait_diagnosis()
        state = {
            "overview": self._session.overview_for_report(),
            "search": self.search,
            "media": self._media_state(self._session.initial_media(
                self._trace, 2000, self._explanation)),
            "view": self.view,
            "view_params": self.view_params,
            "selected_ids": list(self.selected_ids),
            "selected_list": self.selected_list,
            "diagnostics": self.diagnostics,
        }
        control = self.search.get("control") if self.search else None
        if self._runner is not None and control:
            state["steps"] = self._runner.steps(control)
        return state

    def to_html(self, path: str | pathlib.Path, title: str | None = None, *,
                remote_media: bool = False) -> pathlib.Path:
        """Write this view as one self-contained, offline HTML file (``remote_media``: see
        :meth:`feder.FederPy.export_html`)."""
        from .export import write_html

        return write_html(path, [self.export_state()],
                          title or self.view_params.get("title") or "feder report",
                          remote_media=remote_media)

    def __repr__(self) -> str:
        kind = self.search.get("kind", self.overview.get("kind", "?"))
        return f"FederWidget({kind}, view={self.view!r})"


MAX_REQUEST = 500
"""Ids answered per media request."""


def _integers(raw: Any) -> list[int]:
    """The integral numbers among the first :data:`MAX_REQUEST` items of a list (JSON
    numbers arrive as int or float; NaN, ±Infinity, fractions, booleans, strings are
    dropped), without duplicates."""
    if not isinstance(raw, (list, tuple)):
        return []
    out: dict[int, None] = {}
    for value in raw[:MAX_REQUEST]:
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            out[value] = None
        elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
            out[int(value)] = None
    return list(out)


def _has_id(index: Any, ident: int) -> bool:
    """Whether ``ident`` is a faiss id / hnswlib label of ``index`` (a cached sorted lookup,
    O(log n)); negative ids (faiss padding) never are."""
    if ident < 0 or ident >= 1 << 64:
        return False
    try:
        if hasattr(index, "row_of"):
            index.row_of(ident)
        elif hasattr(index, "internal_id"):
            index.internal_id(ident)
        else:
            index.vector(ident)
    except (FederError, KeyError, IndexError, ValueError, OverflowError):
        return False
    return True


def message_media(items: dict[str, MediaItem]) -> tuple[dict[str, MediaItem], list[bytes]]:
    """Move image bytes out of ``items`` into a buffer list (custom messages carry buffers
    separately); each image item gets ``"buffer": index`` instead of ``"data"``."""
    out: dict[str, MediaItem] = {}
    buffers: list[bytes] = []
    for key, item in items.items():
        if item.get("kind") == "image":
            out[key] = {k: v for k, v in item.items() if k != "data"} | {"buffer": len(buffers)}
            buffers.append(item["data"])
        else:
            out[key] = item
    return out, buffers

"""The notebook widget (anywidget). Data arrives ready from :class:`~feder.session.ViewSession`;
the ESM in ``feder/static/`` only draws it."""

from __future__ import annotations

import pathlib
from typing import Any

import anywidget
import traitlets

from .media import MediaItem
from .serialize import Payload
from .session import ViewSession
from .trace import SearchTrace

STATIC = pathlib.Path(__file__).parent / "static"
INITIAL_MEDIA = 60  # thumbnails sent with the widget; the rest are fetched when shown
VIEWS = {"ivf_flat": ("overview", "coarse", "fine", "projection"),
         "hnsw": ("overview", "search")}


class FederWidget(anywidget.AnyWidget):
    """Shows an index overview, or one search through it. ``trace`` is the search's
    :class:`~feder.trace.SearchTrace`; ``selected_ids`` / ``selected_list`` follow clicks."""

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    overview = traitlets.Dict().tag(sync=True)
    search = traitlets.Dict().tag(sync=True)
    media = traitlets.Dict().tag(sync=True)
    view = traitlets.Unicode("overview").tag(sync=True)
    view_params = traitlets.Dict().tag(sync=True)
    selected_ids: Any = traitlets.List().tag(sync=True)
    selected_list = traitlets.Int(-1).tag(sync=True)

    def __init__(self, session: ViewSession, trace: SearchTrace | None = None,
                 search: Payload | None = None, view: str | None = None):
        self._session = session
        self._trace = trace
        overview = session.overview
        kind = session.index.kind
        if view is None:
            view = "overview" if search is None else ("coarse" if kind == "ivf_flat"
                                                      else "search")
        if view not in VIEWS[kind]:
            raise ValueError(f"view must be one of {VIEWS[kind]}, got {view!r}")
        params = session.params
        super().__init__(
            overview=overview,
            search=search or {},
            media={"media_type": session.media.media_type,
                   "items": session.initial_media(overview, search, INITIAL_MEDIA)},
            view=view,
            view_params={"width": params.width, "height": params.height,
                         "theme": params.theme, "title": params.title},
        )
        self.on_msg(self._on_message)

    def show_search(self, trace: SearchTrace, search: Payload) -> FederWidget:
        """Replace the search shown, in place: only the new trace's payload (and the media
        it needs) is sent; the overview stays where it is."""
        self._trace = trace
        media = self._session.initial_media(self.overview, search, INITIAL_MEDIA)
        self.media = {"media_type": self.media.get("media_type", "img"),
                      "items": {**self.media.get("items", {}), **media}}
        self.search = search
        if self.view == "overview":
            self.view = "coarse" if self._session.index.kind == "ivf_flat" else "search"
        return self

    @property
    def trace(self) -> SearchTrace | None:
        """The search this widget shows (``None`` for an overview)."""
        return self._trace

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "media":
            return
        ids = [int(i) for i in content.get("ids", [])[:500] if isinstance(i, (int, float))]
        items, buffers = message_media(self._session.media.items(ids))
        self.send({"type": "media", "items": items}, buffers)

    def export_state(self) -> dict[str, Any]:
        """Trait values for :mod:`feder.export`, with more thumbnails embedded."""
        return {
            "overview": self.overview,
            "search": self.search,
            "media": {"media_type": self._session.media.media_type,
                      "items": self._session.initial_media(self.overview, self.search or None,
                                                           limit=2000)},
            "view": self.view,
            "view_params": self.view_params,
            "selected_ids": list(self.selected_ids),
            "selected_list": self.selected_list,
        }

    def to_html(self, path: str | pathlib.Path, title: str | None = None) -> pathlib.Path:
        """Write this view as one self-contained, offline HTML file."""
        from .export import write_html

        return write_html(path, [self.export_state()],
                          title or self.view_params.get("title") or "feder report")

    def __repr__(self) -> str:
        kind = self.search.get("kind", self.overview.get("kind", "?"))
        return f"FederWidget({kind}, view={self.view!r})"


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

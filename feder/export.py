"""Standalone HTML reports: one self-contained file that opens from ``file://`` offline.

The page inlines ``static/widget.css`` and ``static/widget.js`` (the same ES module the notebook
widget loads; the page imports it from a Blob URL) and a small model shim, so the views render
unchanged. Each state is the widget's trait values (``overview``, ``search``, ``media``,
``view``, ``view_params``, ``selected_ids``, ``selected_list``); every binary buffer
(``memoryview``/``bytes``) goes into one base64 blob and comes back as a ``DataView`` at the same
place. A Content-Security-Policy forbids any network access but images the user gave as URLs.

>>> html = render_html([widget.export_state()], title="My index")
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
STATE_KEYS = ("overview", "search", "media", "view", "view_params", "selected_ids",
              "selected_list")
_ALIGN = 8  # DataViews start at multiples of 8 so float64 views need no copy
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_BOOTSTRAP = re.compile(r'<script type="module">(.*?)</script>', re.S)
# Inside <script type="application/json"> these must not appear raw ("</script>", "<!--");
# JSON allows \uXXXX escapes in strings, the only place such characters can occur.
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}


class _Buffers:
    """Unique buffers packed into one aligned blob; identical bytes are stored once."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.slots: list[tuple[int, int]] = []
        self.size = 0
        self._seen: dict[bytes, int] = {}

    def add(self, data: bytes) -> int:
        digest = hashlib.blake2b(data, digest_size=20).digest() + len(data).to_bytes(8, "little")
        slot = self._seen.get(digest)
        if slot is not None:
            return slot
        pad = -self.size % _ALIGN
        if pad:
            self.parts.append(b"\0" * pad)
            self.size += pad
        self.slots.append((self.size, len(data)))
        self.parts.append(data)
        self.size += len(data)
        self._seen[digest] = len(self.slots) - 1
        return len(self.slots) - 1

    def blob(self) -> str:
        return base64.b64encode(b"".join(self.parts)).decode("ascii")


def _split(value: Any, path: list[str | int], found: list[dict[str, Any]], pool: _Buffers) -> Any:
    """A JSON-ready copy of ``value`` with every buffer replaced by ``None`` and recorded in
    ``found`` as ``{"path", "slot"}`` (ipywidgets' ``_remove_buffers`` in spirit)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = value.tobytes() if isinstance(value, memoryview) else bytes(value)
        found.append({"path": list(path), "slot": pool.add(data)})
        return None
    if isinstance(value, Mapping):
        return {str(k): _split(v, [*path, str(k)], found, pool) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split(v, [*path, i], found, pool) for i, v in enumerate(value)]
    item = getattr(value, "item", None)
    if getattr(value, "shape", None) == () and callable(item):  # numpy scalar
        return _split(item(), path, found, pool)
    where = "/".join(str(p) for p in path) or "<state>"
    raise TypeError(f"cannot put {type(value).__name__} at {where} into an HTML report: arrays "
                    "must be {'dtype', 'shape', 'data': memoryview} (feder.serialize.array)")


def _state_entry(state: Mapping[str, Any], pool: _Buffers) -> dict[str, Any]:
    unknown = sorted(set(state) - set(STATE_KEYS))
    if unknown:
        raise TypeError(f"unknown state keys {unknown}; valid keys: {list(STATE_KEYS)}")
    if not isinstance(state.get("overview"), Mapping) or "kind" not in state["overview"]:
        raise ValueError("each state needs an 'overview' payload (feder.serialize)")
    full = {
        "overview": state["overview"],
        "search": state.get("search") or {},
        "media": state.get("media") or {},
        "view": state.get("view", "overview"),
        "view_params": state.get("view_params") or {},
        "selected_ids": list(state.get("selected_ids") or []),
        "selected_list": state.get("selected_list", -1),
    }
    found: list[dict[str, Any]] = []
    clean = _split(full, [], found, pool)
    return {"state": clean, "buffers": found}


def _script_json(doc: Any) -> str:
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def _csp(template: str) -> str:
    match = _BOOTSTRAP.search(template)
    if match is None:
        raise RuntimeError("standalone.html has no bootstrap <script type=\"module\">")
    digest = base64.b64encode(hashlib.sha256(match.group(1).encode("utf-8")).digest())
    return ("default-src 'none'; "
            f"script-src 'sha256-{digest.decode('ascii')}' blob:; "
            "style-src 'unsafe-inline'; img-src data: blob: http: https:; "
            "base-uri 'none'; form-action 'none'")


def render_html(states: Sequence[Mapping[str, Any]], title: str = "feder report") -> str:
    """One self-contained HTML page showing ``states`` one below the other.

    ``states``: widget trait dicts (see :data:`STATE_KEYS`), e.g. an overview then any number
    of searches; each is headed by its ``view_params["title"]``. ``title`` names the page.
    Nothing in the page is fetched from the network.
    """
    if isinstance(states, Mapping):
        raise TypeError("states must be a list of state dicts, not a single dict")
    from . import __version__

    template = (STATIC / "standalone.html").read_text(encoding="utf-8")
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    if "</style" in css.lower():
        raise RuntimeError("widget.css must not contain '</style'")
    esm = (STATIC / "widget.js").read_text(encoding="utf-8")
    pool = _Buffers()
    entries = [_state_entry(state, pool) for state in states]
    doc = {"esm": esm, "states": entries, "blob": pool.blob(), "slots": pool.slots}
    count = len(entries)
    values = {
        "csp": _csp(template),
        "version": html.escape(__version__),
        "title": html.escape(str(title)),
        "subtitle": html.escape(f"{count} view{'s' if count != 1 else ''} · feder "
                                "offline report · hover and click the drawings"),
        "css": css,
        "data": _script_json(doc),
    }
    # One pass: inserted text (a title containing "{{css}}", say) is never substituted again.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def write_html(path: str | os.PathLike[str], states: Sequence[Mapping[str, Any]],
               title: str = "feder report") -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return it as a :class:`~pathlib.Path`."""
    out = Path(path)
    out.write_text(render_html(states, title), encoding="utf-8")
    return out

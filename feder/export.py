"""Standalone HTML reports: one self-contained file that opens from ``file://`` offline.

The page inlines ``static/widget.css`` and ``static/widget.js`` (the same ES module the notebook
widget loads; the page imports it from a Blob URL) and a small model shim, so the views render
unchanged. Each state is the widget's trait values (``overview``, ``search``, ``media``,
``view``, ``view_params``, ``selected_ids``, ``selected_list``); every binary buffer
(``memoryview``/``bytes``) goes into one base64 blob and comes back as a ``DataView`` at the same
place. A Content-Security-Policy forbids any network access.

Remote (http/https) media are not fetched by default: they are shown as placeholders naming
the URL. With ``remote_media=True`` they are kept, the page says how many remote images it
references, and only then does the policy allow ``img-src http: https:``. Local paths never
reach the page: the index source becomes its file name and absolute paths in placeholder
reasons are cut to the file name.

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
              "selected_list", "steps", "diagnostics")
_ALIGN = 8  # DataViews start at multiples of 8 so float64 views need no copy
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_BOOTSTRAP = re.compile(r'<script type="module">(.*?)</script>', re.S)
# Inside <script type="application/json"> these must not appear raw ("</script>", "<!--");
# JSON allows \uXXXX escapes in strings, the only place such characters can occur.
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~])/(?:[^\s/'\"]+/)+([^\s/'\"]+)")
_REMOTE = re.compile(r"^https?:", re.I)
THEMES = ("auto", "light", "dark")
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
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _printable(value)
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


def _state_entry(state: Mapping[str, Any], pool: _Buffers, remote: _Remote) -> dict[str, Any]:
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
        "steps": state.get("steps") or {},
        "diagnostics": state.get("diagnostics") or {},
    }
    found: list[dict[str, Any]] = []
    clean = _split(full, [], found, pool)
    _scrub_paths(clean)
    _remote_items(clean, remote)
    return {"state": clean, "buffers": found}


def _scrub_paths(state: dict[str, Any]) -> None:
    """No absolute local path in the page: facts name the index file only, placeholder
    reasons and image names keep file names."""
    for key in ("overview", "search"):
        facts = state.get(key, {}).get("facts") if isinstance(state.get(key), dict) else None
        if isinstance(facts, dict) and isinstance(facts.get("source"), str):
            facts["source"] = _file_name(facts["source"])

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for field in ("reason", "name"):
                if isinstance(value.get(field), str):
                    value[field] = _ABSOLUTE_PATH.sub(r"\1", value[field])
            for child in value.values():
                if isinstance(child, (dict, list)):
                    visit(child)
        elif isinstance(value, list):
            for child in value:
                if isinstance(child, (dict, list)):
                    visit(child)

    visit(state.get("media"))
    visit(state.get("search", {}).get("target") if isinstance(state.get("search"), dict)
          else None)


def _file_name(source: str) -> str:
    if source.startswith("<") or ("/" not in source and "\\" not in source):
        return source
    return re.split(r"[/\\]", source.rstrip("/\\"))[-1] or source


def _remote_items(state: Any, remote: _Remote) -> None:
    """Media items that point at http(s) URLs: counted (and kept) when remote media are
    allowed, else turned into placeholders naming the URL."""
    if isinstance(state, list):
        for child in state:
            _remote_items(child, remote)
        return
    if not isinstance(state, dict):
        return
    url = state.get("url")
    if state.get("kind") == "url" and isinstance(url, str) and _REMOTE.match(url.strip()):
        if remote.allowed:
            remote.urls.add(url.strip())
        else:
            remote.hidden.add(url.strip())
            state.clear()
            state.update({"kind": "missing", "reason": "remote image not loaded (this report "
                          f"loads nothing from the network): {url.strip()[:300]}"})
        return
    for child in state.values():
        if isinstance(child, (dict, list)):
            _remote_items(child, remote)


class _Remote:
    """Remote media found while packing the states."""

    def __init__(self, allowed: bool):
        self.allowed = allowed
        self.urls: set[str] = set()  # referenced by the page (allowed)
        self.hidden: set[str] = set()  # replaced by placeholders


def _script_json(doc: Any) -> str:
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def _csp(template: str, remote_images: bool = False) -> str:
    match = _BOOTSTRAP.search(template)
    if match is None:
        raise RuntimeError("standalone.html has no bootstrap <script type=\"module\">")
    digest = base64.b64encode(hashlib.sha256(match.group(1).encode("utf-8")).digest())
    img = "img-src data: blob: http: https:" if remote_images else "img-src data: blob:"
    return ("default-src 'none'; "
            f"script-src 'sha256-{digest.decode('ascii')}' blob:; "
            f"style-src 'unsafe-inline'; {img}; "
            "base-uri 'none'; form-action 'none'")


def page_theme(states: Sequence[Mapping[str, Any]]) -> str:
    """``"dark"``/``"light"`` when every state's ``view_params.theme`` says so, else
    ``"auto"`` (the page then follows the browser's preference)."""
    themes = set()
    for state in states:
        params = state.get("view_params") if isinstance(state, Mapping) else None
        theme = params.get("theme", "auto") if isinstance(params, Mapping) else "auto"
        themes.add(theme if theme in THEMES else "auto")
    return themes.pop() if len(themes) == 1 else "auto"


def _network_note(remote: _Remote) -> str:
    if remote.urls:
        n = len(remote.urls)
        return (f"This page references {n} remote image{'s' if n != 1 else ''} (http/https), "
                "loaded from the network when shown; everything else is embedded.")
    note = "Self-contained: this page loads nothing from the network."
    if remote.hidden:
        n = len(remote.hidden)
        note += (f" {n} remote image{'s are' if n != 1 else ' is'} shown as "
                 f"placeholder{'s' if n != 1 else ''} (build with remote_media=True to show "
                 f"{'them' if n != 1 else 'it'}).")
    return note


def render_html(states: Sequence[Mapping[str, Any]], title: str = "feder report", *,
                remote_media: bool = False) -> str:
    """One self-contained HTML page showing ``states`` one below the other.

    ``states``: widget trait dicts (see :data:`STATE_KEYS`), e.g. an overview then any number
    of searches; each is headed by its ``view_params["title"]``. ``title`` names the page.
    Nothing in the page is fetched from the network unless ``remote_media`` is true: then
    http(s) image URLs are kept (and the page says how many it references); otherwise they
    are shown as placeholders. The page is dark or light when every state's theme is.
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
    remote = _Remote(bool(remote_media))
    entries = [_state_entry(state, pool, remote) for state in states]
    doc = {"esm": esm, "states": entries, "blob": pool.blob(), "slots": pool.slots}
    count = len(entries)
    theme = page_theme(states)
    values = {
        "csp": _csp(template, bool(remote.urls)),
        "theme": theme,
        "color_scheme": {"auto": "light dark"}.get(theme, theme),
        "remote_images": str(len(remote.urls)),
        "network": html.escape(_network_note(remote)),
        "version": html.escape(__version__),
        "title": html.escape(_printable(str(title))),
        "subtitle": html.escape(f"{count} view{'s' if count != 1 else ''} · feder "
                                "offline report · hover and click the drawings"),
        "css": css,
        "data": _script_json(doc),
    }
    # One pass: inserted text (a title containing "{{css}}", say) is never substituted again.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def write_html(path: str | os.PathLike[str], states: Sequence[Mapping[str, Any]],
               title: str = "feder report", *, remote_media: bool = False,
               inputs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return it as a :class:`~pathlib.Path`.

    The page is rendered first, then written to a temporary file in the target folder and
    renamed over ``path``: a failure leaves an existing file untouched. ``inputs`` and the
    index files the states show are never overwritten (:class:`~feder.errors.OutputError`)."""
    from .atomic import write_text

    page = render_html(states, title, remote_media=remote_media)
    write_text(path, page, inputs=[*inputs, *_index_sources(states)], what="report")
    return Path(path)


def _index_sources(states: Sequence[Mapping[str, Any]]) -> list[str]:
    """The index files the states were made from (``facts.source``): a report is never
    written over the index it shows."""
    out = []
    for state in states:
        for key in ("overview", "search"):
            payload = state.get(key) if isinstance(state, Mapping) else None
            facts = payload.get("facts") if isinstance(payload, Mapping) else None
            source = facts.get("source") if isinstance(facts, Mapping) else None
            if isinstance(source, str) and source and not source.startswith("<"):
                out.append(source)
    return out


def _printable(text: str) -> str:
    """``text`` encodable as UTF-8 (lone surrogates from undecodable names become U+FFFD)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")

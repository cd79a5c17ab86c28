"""The report keeps its promise: it loads nothing from the network unless built with
``remote_media=True`` (and then says how many remote images it references), it embeds no
absolute local path, and its page background follows the views' theme."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feder.export import page_theme, render_html, write_html
from feder.federpy import FederPy

from browser_util import RequestLog, chromium_available, launch_chromium  # isort: skip
from conftest import build_ivf  # isort: skip

N = 80


def _remote_urls(n: int = N) -> list[str]:
    return [f"https://images.example.invalid/photo_{i}.jpg" for i in range(n)]


def _states(media: Any, theme: str = "auto", **view: Any) -> list[dict[str, Any]]:
    case = build_ivf(n=N, dim=8, nlist=4)
    fed = FederPy(case.index, mediaUrls=media, theme=theme, **view)
    fed.setSearchParams(k=5, nprobe=2)
    return [w.export_state() for w in (fed.overview(), fed.searchById(3))]


def _doc(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="feder-data">(.*?)</script>', page,
                      re.S)
    assert match is not None
    return dict(json.loads(match.group(1)))


def _csp(page: str) -> str:
    match = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert match is not None
    return match.group(1)


def _items(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for entry in doc["states"]:
        out += list(entry["state"]["media"].get("items", {}).values())
        target = entry["state"]["search"].get("target") or {}
        if target.get("media"):
            out.append(target["media"])
    return out


def test_remote_media_are_placeholders_by_default() -> None:
    page = render_html(_states(_remote_urls()))
    items = _items(_doc(page))
    assert items and all(item["kind"] == "missing" for item in items)
    assert "images.example.invalid/photo_3.jpg" in items[0]["reason"] or \
        any("example.invalid" in item["reason"] for item in items)
    assert "http:" not in _csp(page) and "https:" not in _csp(page)
    assert 'data-remote-images="0"' in page
    assert "this page loads nothing from the network" in page
    assert "remote images are shown as placeholders" in page


def test_remote_media_when_asked_are_counted_and_allowed() -> None:
    page = render_html(_states(_remote_urls()), remote_media=True)
    urls = {item["url"] for item in _items(_doc(page)) if item["kind"] == "url"}
    assert urls and urls <= set(_remote_urls())
    assert f'data-remote-images="{len(urls)}"' in page
    assert f"references {len(urls)} remote images" in page
    assert "loads nothing from the network" not in page
    assert "img-src data: blob: http: https:" in _csp(page)


def test_no_remote_media_no_network_in_the_policy_even_when_allowed(tmp_path: Path) -> None:
    page = render_html(_states(None), remote_media=True)
    assert "http:" not in _csp(page) and "loads nothing from the network" in page


def test_reports_embed_no_absolute_local_path(tmp_path: Path) -> None:
    case = build_ivf(n=N, dim=8, nlist=4)
    index_path = tmp_path / "private" / "faiss.index"
    index_path.parent.mkdir()
    import faiss

    faiss.write_index(case.index, str(index_path))
    media = [str(tmp_path / "private" / f"missing_{i}.jpg") for i in range(N)]
    with pytest.warns(UserWarning):
        fed = FederPy(str(index_path), mediaUrls=media)
        out = fed.export_html(tmp_path / "r.html", searches=[fed.searchById(2)])
    page = out.read_text(encoding="utf-8")
    assert str(tmp_path) not in page and "/private/" not in page
    doc = _doc(page)
    assert doc["states"][0]["state"]["overview"]["facts"]["source"] == "faiss.index"
    reasons = [item["reason"] for item in _items(doc)]
    assert reasons and all("missing_" in r and "/" not in r for r in reasons), reasons[:3]


def test_page_theme_follows_the_views() -> None:
    dark = _states(None, theme="dark")
    assert page_theme(dark) == "dark"
    assert page_theme(_states(None, theme="light")) == "light"
    assert page_theme([*dark, *_states(None, theme="light")]) == "auto"
    assert page_theme(_states(None)) == "auto"
    page = render_html(dark)
    assert '<body class="feder-page" data-theme="dark"' in page
    assert "color-scheme: dark;" in page


def test_write_html_never_overwrites_its_inputs(tmp_path: Path) -> None:
    from feder.errors import OutputError

    index = tmp_path / "x.index"
    index.write_bytes(b"precious")
    with pytest.raises(OutputError, match="onto the input"):
        write_html(index, _states(None), inputs=[index])
    assert index.read_bytes() == b"precious"
    with pytest.raises(OutputError, match="directory"):
        write_html(tmp_path, _states(None))


def test_export_html_never_overwrites_the_index_it_shows(tmp_path: Path) -> None:
    import faiss

    from feder.errors import OutputError

    path = tmp_path / "faiss.index"
    faiss.write_index(build_ivf(n=N, dim=8, nlist=4).index, str(path))
    before = path.read_bytes()
    fed = FederPy(str(path))
    with pytest.raises(OutputError, match="onto the input"):
        fed.export_html(path)
    assert path.read_bytes() == before
    assert fed.search(np.ones(8, np.float32)).ids.size == 5


# --------------------------------------------------------------------------- in chromium

needs_browser = pytest.mark.skipif(not chromium_available(),
                                   reason="needs /usr/bin/chromium and playwright")


def _open(path: Path, color_scheme: str = "light") -> tuple[RequestLog, dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(color_scheme=color_scheme)
            log = RequestLog.attach(page)
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-feder-ready='1']", timeout=15_000)
            page.wait_for_timeout(800)  # thumbnails load after the first draw
            facts = page.evaluate("""() => ({
                remote: Number(document.body.dataset.remoteImages),
                footer: document.querySelector('.feder-page-footer').textContent,
                background: getComputedStyle(document.body).backgroundColor,
                error: document.body.dataset.federError || null,
            })""")
        finally:
            browser.close()
    return log, dict(facts)


@needs_browser
@pytest.mark.parametrize("remote", [False, True])
def test_a_report_makes_exactly_the_requests_it_announces(tmp_path: Path, remote: bool) -> None:
    urls = _remote_urls()
    out = write_html(tmp_path / "remote.html", _states(urls), remote_media=remote)
    log, facts = _open(out)
    assert facts["error"] is None
    external = set(log.external)
    if not remote:
        assert facts["remote"] == 0 and external == set(), external
        assert "loads nothing from the network" in facts["footer"]
    else:
        assert facts["remote"] > 0 and f"references {facts['remote']} remote" in facts["footer"]
        assert external and external <= set(urls), external - set(urls)
        assert len(external) <= facts["remote"]


@needs_browser
@pytest.mark.parametrize(("theme", "scheme", "dark"), [
    ("dark", "light", True), ("light", "dark", False), ("auto", "dark", True),
    ("auto", "light", False)])
def test_the_page_background_follows_the_theme(tmp_path: Path, theme: str, scheme: str,
                                               dark: bool) -> None:
    out = write_html(tmp_path / f"{theme}.html", _states(None, theme=theme))
    _, facts = _open(out, color_scheme=scheme)
    rgb = [int(v) for v in re.findall(r"\d+", facts["background"])[:3]]
    assert (np.mean(rgb) < 60) == dark, facts["background"]

"""Shared Playwright helpers for browser tests (Debian chromium, never a downloaded browser).

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        log = RequestLog.attach(page)
        page.goto(path.as_uri())
        assert canvas_ink(page, "canvas.feder-canvas") > 0.05
        save_screenshot(page, "ivf-overview")
        assert log.external == []
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_available() -> bool:
    """Whether Debian's chromium and the Playwright package are both installed."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def launch_chromium(playwright: Any, **kwargs: Any) -> Any:
    """``playwright.chromium.launch`` on Debian's chromium with the offline-friendly flags."""
    args = [*CHROMIUM_ARGS, *kwargs.pop("args", [])]
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args, **kwargs)


def open_report(browser: Any, path: Path, width: int = 1280, height: int = 900,
                ) -> tuple[Any, Any, RequestLog]:
    """``(context, page, log)``: a fresh light-scheme context at ``width × height`` (device
    scale 1) with the report at ``path`` opened from ``file://`` and rendered (the bootstrap
    sets ``body[data-feder-ready]``). Close the context when done."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  device_scale_factor=1, color_scheme="light")
    page = context.new_page()
    log = RequestLog.attach(page)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-feder-ready='1']", timeout=15_000)
    return context, page, log


def paint_every_view(page: Any, i: int, name: str) -> list[str]:
    """Open each enabled tab of the ``i``-th widget in turn, draw it, check it is not blank
    and save a screenshot (``<name>-<view>``); returns the views shown."""
    root = page.locator(".feder-root").nth(i)
    tabs = root.locator(".feder-tab:not([disabled])")
    views = [tabs.nth(t).get_attribute("data-view") for t in range(tabs.count())]
    assert views, name
    for view in views:
        root.locator(f".feder-tab[data-view='{view}']").click()
        page.evaluate("(i) => document.querySelectorAll('.feder-root')[i].federDebug.draw()", i)
        assert canvas_ink(page, index=i) > 0.01, (name, view)
        save_screenshot(page, f"{name}-{view}", f".feder-root >> nth={i}")
    return views


def is_local(url: str) -> bool:
    """``file:``, ``data:``, ``blob:``, ``about:`` and loopback http(s)/ws are local."""
    parsed = urlparse(url)
    if parsed.scheme in LOCAL_SCHEMES:
        return True
    return (parsed.hostname or "") in LOCAL_HOSTS


@dataclass
class RequestLog:
    """Every request a page makes; ``external`` lists those leaving the machine.

    With ``block=True`` (default) external http(s) requests are also aborted, so a test
    can never reach the network even when it fails to notice one.
    """

    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Any, block: bool = True) -> RequestLog:
        log = cls()
        page.on("request", log._on_request)
        page.on("console", lambda msg: msg.type == "error" and log.console_errors.append(msg.text))
        page.on("pageerror", lambda err: log.page_errors.append(str(err)))

        def on_dialog(dialog: Any) -> None:
            log.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        if block:
            page.route(re.compile(r"^(https?|wss?)://"), log._route)
        return log

    def _on_request(self, request: Any) -> None:
        self.requests.append(request.url)
        if not is_local(request.url):
            self.external.append(request.url)

    def _route(self, route: Any) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            route.abort()


_CANVAS_STATS = """
([selector, index]) => {
  const canvas = document.querySelectorAll(selector)[index];
  if (!canvas) return null;
  const ctx = canvas.getContext('2d');
  const {width, height} = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  // Background = the most common colour among a coarse sample.
  const counts = new Map();
  const step = Math.max(1, Math.floor(width * height / 4000));
  for (let p = 0; p < width * height; p += step) {
    const i = p * 4;
    const key = (data[i] >> 3) << 10 | (data[i + 1] >> 3) << 5 | (data[i + 2] >> 3);
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  let bgKey = 0, best = -1;
  for (const [k, c] of counts) if (c > best) { best = c; bgKey = k; }
  let ink = 0, opaque = 0;
  for (let p = 0; p < width * height; p++) {
    const i = p * 4;
    if (data[i + 3] > 0) opaque++;
    const key = (data[i] >> 3) << 10 | (data[i + 1] >> 3) << 5 | (data[i + 2] >> 3);
    if (data[i + 3] > 0 && key !== bgKey) ink++;
  }
  return {width, height, ink: ink / (width * height), opaque: opaque / (width * height),
          colors: counts.size};
}
"""

_CANVAS_PIXELS = """
([selector, index]) => {
  const canvas = document.querySelectorAll(selector)[index];
  const ctx = canvas.getContext('2d');
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  // Downsample to 4-bit channels on a grid: enough to tell two drawings apart. One
  // character per sample: a string crosses the Playwright bridge much faster than an array.
  const out = [];
  const sx = Math.max(1, Math.floor(canvas.width / 200));
  const sy = Math.max(1, Math.floor(canvas.height / 150));
  for (let y = 0; y < canvas.height; y += sy)
    for (let x = 0; x < canvas.width; x += sx) {
      const i = (y * canvas.width + x) * 4;
      const rgb = (d[i] >> 4) << 8 | (d[i + 1] >> 4) << 4 | (d[i + 2] >> 4);
      out.push(String.fromCharCode(0x100 + rgb));
    }
  return out.join('');
}
"""


def canvas_stats(page: Any, selector: str = "canvas.feder-canvas", index: int = 0,
                 ) -> dict[str, Any]:
    """``{"ink": fraction of pixels not the background colour, "colors": distinct colours
    in a sample, "width", "height", "opaque"}`` of the ``index``-th canvas."""
    stats = page.evaluate(_CANVAS_STATS, [selector, index])
    if stats is None:
        raise AssertionError(f"no canvas {selector!r} #{index}")
    return dict(stats)


def canvas_ink(page: Any, selector: str = "canvas.feder-canvas", index: int = 0) -> float:
    """Fraction of pixels that differ from the canvas's background colour (0 = blank)."""
    return float(canvas_stats(page, selector, index)["ink"])


def canvas_signature(page: Any, selector: str = "canvas.feder-canvas", index: int = 0) -> str:
    """A coarse pixel sample of a canvas (one character per sampled pixel), for
    :func:`pixel_difference`."""
    return str(page.evaluate(_CANVAS_PIXELS, [selector, index]))


def pixel_difference(a: str, b: str) -> float:
    """Fraction of sampled pixels that differ between two signatures (1.0 if sizes differ)."""
    if len(a) != len(b) or not a:
        return 1.0
    return sum(1 for x, y in zip(a, b, strict=True) if x != y) / len(a)


def save_screenshot(page: Any, name: str, selector: str | None = None) -> Path:
    """Save a PNG into ``test-artifacts/`` (the whole page, or one element) and return it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    if selector is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        page.locator(selector).first.screenshot(path=str(path))
    return path


def move_to(page: Any, element: Any, x: float, y: float) -> None:
    """Scroll ``element`` (an ElementHandle or Locator) into view and move the mouse to
    ``(x, y)`` CSS pixels from its top-left corner (mouse events need on-screen points)."""
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    if box is None:
        raise AssertionError("element is not visible")
    page.mouse.move(box["x"] + x, box["y"] + y)


def click_at(page: Any, element: Any, x: float, y: float) -> None:
    """Like :func:`move_to`, then a left click there."""
    move_to(page, element, x, y)
    page.mouse.down()
    page.mouse.up()

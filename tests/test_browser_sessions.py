"""End-to-end sessions in headless Chromium: reload, dropped connection and server restart keep
the visitor's work; swapping files never shows the example; hostile names stay text.

Each test drives the real server (``serve.py``, uploads streamed to disk) with the EMD-30342 map
and model; screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import quote, urlsplit

import pytest

from tests.big_maps import padded_copy
from tests.browser_support import (
    ARTIFACTS,
    MAP,
    MODEL,
    UPLOADER,
    Dashboard,
    browser_skip_reason,
    header_text,
    launch_chromium,
    settle,
    upload,
)
from tests.conftest import unavailable
from tests.hostile import EVIL_CHAIN, EVIL_FILE_NAME, EVIL_RESNAME, EVIL_RESSEQ, hostile_model

pytestmark = pytest.mark.browser
PAIR = f"{MAP.name} + {MODEL.name}"
WAIT = 240_000
#: Records every socket the page opens, so a test can drop the connection.
SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.qsSockets = [];
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    window.qsSockets.push(socket);
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""
#: Records each new text of the result header, to prove the example never appeared.
HEADER_LOG = """
(() => {
  window.qsHeaders = [];
  const look = () => {
    for (const el of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
      const text = el.innerText;
      if (text.includes('model Q') && window.qsHeaders.at(-1) !== text) {
        window.qsHeaders.push(text);
      }
    }
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true,
                                                     characterData: true});
})();
"""


@pytest.fixture(scope="module")
def skip_without_browser():
    reason = browser_skip_reason()
    if reason:
        unavailable(reason)


@pytest.fixture(scope="module")
def dashboard(skip_without_browser, tmp_path_factory):
    with Dashboard(tmp_path_factory.mktemp("uploads")) as server:
        yield server


@pytest.fixture(scope="module")
def browser(skip_without_browser):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT)
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


def new_page(browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(WAIT)
    return page


def wait_header(page, text: str) -> str:
    from playwright.sync_api import expect

    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="model Q").first
    expect(caption).to_contain_text(text, timeout=WAIT)
    return header_text(page)


def select_residue(page, label: str) -> None:
    from playwright.sync_api import expect

    page.locator('[data-testid="stSelectbox"]', has_text="Residue").first.click()
    page.keyboard.type(label)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=label)).to_be_visible(timeout=WAIT)


def shot(page, name: str) -> None:
    settle(page, timeout=WAIT)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, timeout=WAIT)


def test_reload_dropped_connection_and_restart_keep_the_session(browser, tmp_path):
    from playwright.sync_api import expect

    uploads = tmp_path / "uploads"
    with Dashboard(uploads) as first:
        page = new_page(browser)
        page.add_init_script(SOCKETS)
        page.goto(first.url)
        wait_header(page, "Built-in example")
        upload(page, MAP, MODEL)
        wait_header(page, PAIR)
        resolution = page.get_by_role("spinbutton", name="Reported map resolution (Å)")
        resolution.fill("3.5")
        resolution.press("Enter")
        wait_header(page, "3.5 Å")
        page.get_by_role("link", name="3D structure").click()
        select_residue(page, "A 145 ASP")
        expect(page).to_have_url(re.compile(r"map=.*residue=A(%3A|:)145"))
        shot(page, "10_session_before_reload.png")

        page.evaluate("window.qsSockets.forEach(s => s.close())")
        page.wait_for_timeout(3000)
        assert PAIR in wait_header(page, "3.5 Å"), "a dropped connection resumes the session"
        expect(page.get_by_role("heading", name="A 145 ASP")).to_be_visible()

        page.reload()
        assert PAIR in wait_header(page, "3.5 Å")
        expect(page.get_by_role("heading", name="A 145 ASP")).to_be_visible(timeout=WAIT)
        shot(page, "11_session_after_reload.png")
        address = page.url
        page.close()

    with Dashboard(uploads) as second:
        page = new_page(browser)
        moved = urlsplit(address)._replace(netloc=urlsplit(second.url).netloc).geturl()
        page.goto(moved)
        assert PAIR in wait_header(page, "3.5 Å"), "a restarted server restores from the URL"
        expect(page.get_by_role("heading", name="A 145 ASP")).to_be_visible(timeout=WAIT)
        shot(page, "12_session_after_restart.png")
        page.close()


def test_swapping_files_never_shows_the_example(browser, dashboard, tmp_path):
    from playwright.sync_api import expect

    padded = padded_copy(MAP, tmp_path / "emd_30342_padded.mrc", 20_000_000, marker=0.25)
    truncated = tmp_path / "truncated.mrc"
    truncated.write_bytes(MAP.read_bytes()[:5000])
    page = new_page(browser)
    page.goto(dashboard.url)
    wait_header(page, "Built-in example")
    upload(page, MAP, MODEL)
    wait_header(page, PAIR)
    page.evaluate(HEADER_LOG)

    page.get_by_label(f"Remove {MAP.name}").click()
    expect(page.get_by_text(f"Upload a map to replace {MAP.name}")).to_be_visible(timeout=WAIT)
    assert PAIR in header_text(page)
    shot(page, "13_swap_map_removed.png")

    page.locator(UPLOADER).nth(0).set_input_files(padded, timeout=WAIT)
    header = wait_header(page, f"{padded.name} + {MODEL.name}")
    assert "model Q 0.376" in header, "the padded map scores as the original"

    page.locator(UPLOADER).nth(0).set_input_files(truncated, timeout=WAIT)
    expect(page.get_by_text("truncated.mrc").last).to_be_visible(timeout=WAIT)
    alert = page.locator('[data-testid="stAlertContentError"]').first
    expect(alert).to_contain_text("truncated.mrc", timeout=WAIT)
    expect(page.get_by_text(f"still those of {padded.name}")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Scoring "))).to_have_count(0)
    assert f"{padded.name} + {MODEL.name}" in header_text(page)
    shot(page, "14_swap_bad_map.png")
    headers = page.evaluate("window.qsHeaders")
    assert headers and not any("example" in h.lower() for h in headers), headers
    page.close()


def test_hostile_names_stay_text(browser, dashboard, tmp_path):
    from playwright.sync_api import expect

    model = hostile_model(MODEL, tmp_path / "hostile.cif")
    named = tmp_path / EVIL_FILE_NAME
    shutil.copy(model, named)
    page = new_page(browser)
    page.goto(dashboard.url)
    wait_header(page, "Built-in example")
    upload(page, MAP, named)
    header = wait_header(page, EVIL_FILE_NAME)
    assert f"{MAP.name} + {EVIL_FILE_NAME}" in header
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="model Q").first
    expect(caption.locator("b, a, img, span.katex")).to_have_count(0)

    query = urlsplit(page.url).query
    residue = quote(f"{EVIL_CHAIN}:{EVIL_RESSEQ}", safe="")
    page.goto(f"{dashboard.url}/structure?{query}&residue={residue}")
    label = f"{EVIL_CHAIN} {EVIL_RESSEQ} {EVIL_RESNAME}"
    status = page.frame_locator('iframe[title="st.iframe"]').first.locator("#qs-status")
    expect(status).to_have_attribute("data-rendered", "1", timeout=WAIT)
    expect(status).to_have_attribute("data-zoom-target", label, timeout=WAIT)
    expect(page.get_by_role("heading", name=label)).to_be_visible()
    page.wait_for_timeout(1000)
    for frame in page.frames:
        assert frame.evaluate("typeof window.qsInjected") == "undefined", frame.url
    shot(page, "15_hostile_names.png")
    page.close()

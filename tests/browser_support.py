"""Running the real dashboard for browser tests and the load benchmark.

:class:`Dashboard` starts ``streamlit run serve.py`` (uploads streamed to disk, as ``make run``)
on a free port with its own upload folder and reports the server's memory;
:func:`launch_chromium` opens Debian's Chromium through Playwright (never a downloaded browser).
:func:`browser_skip_reason` says why the browser tests cannot run here, if they cannot.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "emd-30342"
MAP = SHARED / "emd_30342_chainA_zone.mrc"
MODEL = SHARED / "7cec_chainA.cif"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'


def browser_skip_reason() -> str | None:
    """Why the browser tests cannot run on this machine, or None."""
    if not CHROMIUM.exists():
        return "chromium is not installed at /usr/bin/chromium (make browser installs it)"
    if not (MAP.exists() and MODEL.exists()):
        return f"the EMD-30342 test data {SHARED} is not available (../shared is absent)"
    if not (ROOT / "static" / "vendor" / "3Dmol-min.js").exists():
        return "static/vendor/3Dmol-min.js is missing: run `make assets`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (requirements-dev.txt)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dashboard:
    """``streamlit run serve.py`` in a subprocess.

    Parameters
    ----------
    upload_dir
        The server's upload folder (``QSCORE_UPLOAD_DIR``).
    options
        Extra ``--section.option value`` pairs for Streamlit.
    entry
        The script to run (``serve.py``; ``app.py`` keeps uploads in memory).
    """

    def __init__(
        self, upload_dir: Path, *, options: dict[str, str] | None = None, entry: str = "serve.py"
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        flags = {"server.port": str(self.port), "server.headless": "true", **(options or {})}
        command = [sys.executable, "-m", "streamlit", "run", entry]
        for name, value in flags.items():
            command += [f"--{name}", value]
        env = {
            **os.environ,
            "QSCORE_ALLOW_LOCAL_PATHS": "0",
            "QSCORE_UPLOAD_DIR": str(upload_dir),
        }
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        self._peak = 0
        self._watching = False
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the dashboard did not start within 120 s")

    def rss(self) -> int:
        """Resident memory of the server process, in bytes."""
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss

    def watch_peak(self) -> None:
        """Start recording the peak resident memory (every 50 ms) from now on."""
        self._peak = self.rss()
        self._watching = True

        def poll() -> None:
            while self._watching and self.process.poll() is None:
                try:
                    self._peak = max(self._peak, self.rss())
                except Exception:
                    return
                time.sleep(0.05)

        threading.Thread(target=poll, daemon=True).start()

    def peak(self) -> int:
        """Peak resident memory since :meth:`watch_peak`, in bytes."""
        return max(self._peak, self.rss())

    def stop(self) -> None:
        """Stop the server."""
        self._watching = False
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright):
    """Debian's Chromium, headless, through Playwright."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)


def set_file(page, index: int, path: Path, *, timeout: float = 300_000) -> None:
    """Put ``path`` into the sidebar's ``index``-th uploader (the upload runs in the page)."""
    page.locator(UPLOADER).nth(index).set_input_files(path, timeout=timeout)


def wait_file(page, path: Path, *, timeout: float = 300_000) -> None:
    """Wait until the uploader lists ``path`` as uploaded."""
    from playwright.sync_api import expect

    remove = page.get_by_role("button", name=f"Remove {path.name}")
    expect(remove).to_be_visible(timeout=timeout)


def upload(page, map_path: Path, model_path: Path, *, timeout: float = 300_000) -> None:
    """Upload a map and a model through the sidebar, one after the other (the first upload
    reruns the app). A file set while a rerun redraws the sidebar can be dropped by the page
    (the person would drop it again): each is set again, up to three times, if the uploader
    does not list it within a minute."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for index, path in enumerate((map_path, model_path)):
        for attempt in range(3):
            set_file(page, index, path, timeout=timeout)
            try:
                wait_file(page, path, timeout=timeout if attempt == 2 else min(timeout, 60_000))
                break
            except (AssertionError, PlaywrightTimeout):
                if attempt == 2:
                    raise


def header_text(page) -> str:
    """The one-line header saying what is shown (empty while there is none)."""
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="model Q").first
    return caption.inner_text(timeout=60_000)


#: The header's text in the page (empty while there is none), read without waiting.
_HEADER_JS = """
() => {
  for (const el of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
    if (el.innerText.includes('model Q')) return el.innerText;
  }
  return '';
}
"""


def settle(page, timeout: float = 120_000) -> None:
    """Wait until the page has drawn everything (no placeholders left), then a moment more."""
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stSkeleton"]')).to_have_count(0, timeout=timeout)
    page.wait_for_timeout(1500)


@dataclass(frozen=True)
class SessionRun:
    """One browser session of :func:`score_in_parallel`: its map, the seconds from the start of
    its upload to the overview of its own result, that overview's header and its address."""

    map_name: str
    seconds: float
    header: str
    url: str


def score_in_parallel(
    browser, url: str, maps: list[Path], model: Path, *, timeout: float = 1800
) -> list[SessionRun]:
    """Open one browser session per map, upload each map with ``model`` at once and wait for
    every session's overview of its own pair.

    Raises
    ------
    TimeoutError
        When a session has not shown its result within ``timeout`` seconds.
    """
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in maps]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.set_default_timeout(timeout * 1000)
        page.goto(url)
    for page in pages:
        page.wait_for_function(f"({_HEADER_JS})().includes('model Q')")
    starts: dict[int, float] = {}
    for index, (page, map_path) in enumerate(zip(pages, maps, strict=True)):
        starts[index] = time.perf_counter()
        set_file(page, 0, map_path, timeout=timeout * 1000)
    for page, map_path in zip(pages, maps, strict=True):
        wait_file(page, map_path, timeout=timeout * 1000)
        set_file(page, 1, model, timeout=timeout * 1000)
    runs: dict[int, SessionRun] = {}
    deadline = time.perf_counter() + timeout
    while len(runs) < len(pages):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{len(pages) - len(runs)} sessions did not finish scoring")
        for index, page in enumerate(pages):
            if index in runs:
                continue
            header = page.evaluate(_HEADER_JS)
            if f"{maps[index].name} + {model.name}" in header:
                seconds = time.perf_counter() - starts[index]
                runs[index] = SessionRun(maps[index].name, seconds, header, page.url)
        time.sleep(0.25)
    for context in contexts:
        context.close()
    return [runs[index] for index in range(len(pages))]

"""File uploads for every page: ``st.file_uploader`` whose files live on disk, not in memory.

Pages call :func:`file_input` (a drop-in for ``st.file_uploader`` with one file) and get a
:class:`~app_support.upload_store.StoredFile`: the upload's path in the content-addressed
store, its digest, name, size and restore key. Readers then treat it like any file on disk
(``qscore.io.maps.read_map(stored.path, crop_to=...)`` memory-maps it and reads only the box
around the model).

Served by ``serve.py`` (``make run``), uploads stream to disk as they arrive
(:mod:`app_support.upload_route`); under a plain ``streamlit run app.py`` Streamlit holds the
bytes in memory and this module copies them to the store once.

Files a session uses are held in its name (one slot per input); when the session has been gone
for ``server.disconnectedSessionTTL`` seconds a background sweep lets go of its files and of
Streamlit's own upload records, and deletes stored files no session has used for
``upload_keep_hours``. Within that time :func:`restore` finds a file again by its key (what the
URL carries, :mod:`app_support.urlstate`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import streamlit as st

from app_support.cache import Source
from app_support.upload_route import TICKET_PREFIX
from app_support.upload_store import StoredFile, shared_store

#: Session key of the files this session's uploads resolved to, by Streamlit file id.
_RESOLVED = "qs.uploads.resolved"
#: Seconds between sweeps.
SWEEP_SECONDS = 10.0
_sweeper_lock = threading.Lock()
_sweeper: threading.Thread | None = None
_gone_since: dict[str, float] = {}


def session_id() -> str:
    """This browser session's id (a fixed name outside a Streamlit run, e.g. in tests)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "local"


def stored_upload(upload) -> StoredFile:
    """The stored file behind an ``UploadedFile`` (redeeming the upload route's ticket, or
    copying bytes Streamlit kept in memory); once per file and session."""
    resolved: dict[str, StoredFile] = st.session_state.setdefault(_RESOLVED, {})
    found = resolved.get(upload.file_id)
    if found is not None and found.path.is_file():
        return found
    store = shared_store()
    data = upload.getvalue()
    stored = None
    if data.startswith(TICKET_PREFIX) and len(data) < 256:
        token = data[len(TICKET_PREFIX) :].decode("ascii", "replace")
        stored = store.redeem(token, session_id(), upload.file_id)
    if stored is None:
        stored = store.put_bytes(upload.name, data)
    resolved[upload.file_id] = stored
    _start_sweeper()
    return stored


def hold(slot: str, files: Sequence[StoredFile | Source | None]) -> None:
    """Keep ``files`` (stored files, or sources made from them) on disk while this session uses
    them for ``slot``, replacing what the slot held before."""
    shared_store().hold(session_id(), slot, [f.digest for f in files if f is not None])
    _start_sweeper()


def restore(key: str | None) -> StoredFile | None:
    """The stored file with restore key ``key``, if it is still kept."""
    return shared_store().find(key) if key else None


def source_of(stored: StoredFile) -> Source:
    """The scoring cache's description of a stored file (keyed by its content)."""
    return Source(name=stored.name, digest=stored.digest, path=str(stored.path), key=stored.key)


def file_input(
    label: str,
    *,
    key: str,
    types: Sequence[str] | None = None,
    help: str | None = None,
    container=None,
    label_visibility: str = "visible",
) -> StoredFile | None:
    """``st.file_uploader`` for one file, kept on disk and held for this session under ``key``.

    Parameters
    ----------
    label
        The uploader's label.
    key
        Widget key; also the slot the file is held under.
    types
        Accepted extensions (without dots), or None for any.
    help
        Tooltip.
    container
        Where to draw it (e.g. ``st.sidebar``); the page body when None.
    label_visibility
        ``"visible"``, ``"hidden"`` or ``"collapsed"``, as for ``st.file_uploader``.

    Returns
    -------
    StoredFile or None
        The uploaded file on disk, or None while nothing is uploaded.
    """
    place = st if container is None else container
    upload = place.file_uploader(
        label,
        type=list(types) if types else None,
        key=key,
        help=help,
        label_visibility=label_visibility,
    )
    stored = stored_upload(upload) if upload is not None else None
    hold(key, [stored])
    return stored


def size_text(size: int) -> str:
    """A file size for people: ``812 kB``, ``1.4 GB``."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "kB") else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


# --------------------------------------------------------------------------- the sweep


def sweep(now: float | None = None) -> None:
    """Let go of the files and upload records of sessions gone for longer than
    ``server.disconnectedSessionTTL``, then delete stored files past their keep time."""
    from streamlit import config
    from streamlit.runtime import Runtime

    store = shared_store()
    if Runtime.exists():
        runtime = Runtime.instance()
        moment = time.monotonic() if now is None else now
        grace = float(config.get_option("server.disconnectedSessionTTL"))
        for owner in store.owners():
            if runtime.is_active_session(owner):
                _gone_since.pop(owner, None)
                continue
            since = _gone_since.setdefault(owner, moment)
            if moment - since >= grace:
                store.release(owner)
                runtime.uploaded_file_mgr.remove_session_files(owner)
                _gone_since.pop(owner, None)
    store.collect()


def _sweep_forever() -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        try:
            sweep()
        except Exception:  # a failed sweep must not end the sweeps
            import logging

            logging.getLogger(__name__).exception("The upload sweep failed.")


def _start_sweeper() -> None:
    """Start the background sweep once per process."""
    global _sweeper
    with _sweeper_lock:
        if _sweeper is None or not _sweeper.is_alive():
            _sweeper = threading.Thread(target=_sweep_forever, name="qscore-upload-sweep")
            _sweeper.daemon = True
            _sweeper.start()

"""The upload middleware: multipart bodies stream to the store, Streamlit gets a ticket.

The application behind the middleware stands in for Streamlit's upload endpoint: it parses the
form with Starlette exactly as Streamlit does and records what it received.
"""

from __future__ import annotations

import hashlib
import os
import tracemalloc

import anyio
import pytest
from starlette.requests import Request

from app_support import upload_route
from app_support.upload_route import TICKET_PREFIX, SpillUploads
from app_support.upload_store import UploadStore

SESSION, FILE_ID = "session-1", "file-1"
PATH = f"/_stcore/upload_file/{SESSION}/{FILE_ID}"
BOUNDARY = b"----qscoreTestBoundary7MA4YWxk"


class StreamlitLike:
    """Parses the upload like Streamlit's endpoint and answers 204."""

    def __init__(self) -> None:
        self.files: list[tuple[str, str, bytes]] = []
        self.raw_bodies: list[bytes] = []

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        if scope["path"] != PATH:
            self.raw_bodies.append(await request.body())
        else:
            form = await request.form()
            for value in form.values():
                if hasattr(value, "read"):
                    self.files.append((value.filename, value.content_type, await value.read()))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def multipart_chunks(name: str, payload_chunks, *, field: bytes | None = None):
    """A browser-like multipart body (one file part, optionally a text field), in chunks."""
    if field is not None:
        yield (
            (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\n')
            + field
            + b"\r\n"
        )
    yield (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + name.encode() + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    yield from payload_chunks
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


def scope(path: str = PATH, length: int | None = None) -> dict:
    headers = [(b"content-type", b"multipart/form-data; boundary=" + BOUNDARY)]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "method": "PUT", "path": path, "headers": headers, "query_string": b""}


def run(middleware, chunks, *, disconnect_after: int | None = None, path: str = PATH):
    sent: list[dict] = []
    iterator = iter(chunks)
    count = 0

    async def receive():
        nonlocal count
        count += 1
        if disconnect_after is not None and count > disconnect_after:
            return {"type": "http.disconnect"}
        chunk = next(iterator, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    anyio.run(middleware, scope(path), receive, send)
    return sent


@pytest.fixture
def store(tmp_path) -> UploadStore:
    return UploadStore(tmp_path / "uploads", keep_seconds=3600, disk_bytes=1e12)


@pytest.fixture
def vouched(monkeypatch):
    """Streamlit's own checks (XSRF, live session) pass for SESSION only."""
    monkeypatch.setattr(upload_route, "_vouched", lambda scope, session: session == SESSION)
    monkeypatch.setattr(upload_route, "_max_upload_bytes", lambda: 200 * 1024 * 1024)


def status(sent: list[dict]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_a_large_upload_goes_to_disk_and_streamlit_receives_a_ticket(store, vouched):
    downstream = StreamlitLike()
    middleware = SpillUploads(downstream, store=lambda: store)
    digest = hashlib.sha256()
    chunk_count, chunk_size = 1024, 64 * 1024  # 64 MB, made as it is sent

    def payload():
        for index in range(chunk_count):
            chunk = (index.to_bytes(4, "little") * (chunk_size // 4))[:chunk_size]
            digest.update(chunk)
            yield chunk

    tracemalloc.start()
    sent = run(middleware, multipart_chunks("emd_big.map", payload(), field=b"hello"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert status(sent) == 204
    assert peak < 16 * 1024 * 1024, f"the upload was held in memory (peak {peak / 1e6:.0f} MB)"
    [(name, content_type, data)] = downstream.files
    assert (name, content_type) == ("emd_big.map", "application/octet-stream")
    assert data.startswith(TICKET_PREFIX) and len(data) < 100
    stored = store.redeem(data[len(TICKET_PREFIX) :].decode(), SESSION, FILE_ID)
    assert stored is not None and stored.digest == digest.hexdigest()
    assert stored.size == chunk_count * chunk_size and stored.name == "emd_big.map"


def test_binary_content_that_looks_like_framing_survives(store, vouched):
    tricky = b"--" + BOUNDARY[:-1] + b"\r\n--\r\n" + os.urandom(5000) + b"\r\n--"
    downstream = StreamlitLike()
    run(SpillUploads(downstream, store=lambda: store), multipart_chunks("t.map", [tricky]))
    [(_, _, data)] = downstream.files
    stored = store.redeem(data[len(TICKET_PREFIX) :].decode(), SESSION, FILE_ID)
    assert stored.path.read_bytes() == tricky


def test_requests_streamlit_would_refuse_pass_through_untouched(store, vouched):
    downstream = StreamlitLike()
    other = "/_stcore/upload_file/someone-else/file-9"
    body = b"".join(multipart_chunks("x.map", [b"abc"]))
    run(SpillUploads(downstream, store=lambda: store), [body], path=other)
    assert downstream.raw_bodies == [body]
    assert store.disk_usage() == (0, 0)


def test_an_oversized_upload_is_refused_while_streaming(store, vouched, monkeypatch):
    monkeypatch.setattr(upload_route, "_max_upload_bytes", lambda: 1024 * 1024)
    downstream = StreamlitLike()
    chunks = multipart_chunks("huge.map", (b"\0" * 65_536 for _ in range(64)))
    sent = run(SpillUploads(downstream, store=lambda: store), chunks)
    assert status(sent) == 413 and not downstream.files
    assert store.disk_usage() == (0, 0)
    assert not list((store.root / "partial").iterdir())


def test_a_client_that_goes_away_leaves_no_file(store, vouched):
    downstream = StreamlitLike()
    chunks = multipart_chunks("gone.map", (b"\1" * 65_536 for _ in range(50)))
    sent = run(SpillUploads(downstream, store=lambda: store), chunks, disconnect_after=10)
    assert sent == [] and not downstream.files
    assert not list((store.root / "partial").iterdir())


def test_a_body_cut_in_the_middle_of_a_file_is_refused(store, vouched):
    downstream = StreamlitLike()
    head = list(multipart_chunks("cut.map", [b"\2" * 1000]))[:-1]
    sent = run(SpillUploads(downstream, store=lambda: store), head)
    assert status(sent) == 400 and not downstream.files
    assert store.disk_usage() == (0, 0)

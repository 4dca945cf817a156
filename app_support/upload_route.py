"""Uploads straight to disk: an ASGI middleware in front of Streamlit's upload endpoint.

Streamlit's own endpoint (``PUT /_stcore/upload_file/<session>/<file>``) reads every uploaded
file into memory and keeps it there for the whole session. This middleware, installed by
``serve.py``, parses the multipart body as it arrives and writes each file part into the
:class:`~app_support.upload_store.UploadStore` (hashing it on the way), so the server's memory
does not grow with the upload. Streamlit then receives the same request with each file's content
replaced by a short ticket; it runs its usual checks (XSRF token, session, size) and keeps the
ticket, which :func:`app_support.uploads.stored_upload` exchanges for the file on disk.

A request the middleware cannot vouch for (no valid XSRF token, unknown session, a declared size
over ``server.maxUploadSize``, not multipart) is passed to Streamlit untouched, which refuses it
before reading its body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app_support.upload_store import SpillWriter, UploadStore, shared_store

#: Prefix of the ticket that stands in for an uploaded file's content.
TICKET_PREFIX = b"qscore-upload-ticket:"
_UPLOAD_PATH = re.compile(r"(?:^|/)_stcore/upload_file/([^/]+)/([^/]+)/?$")
#: Bytes gathered before they are handed to a worker thread for hashing and writing.
FLUSH_BYTES = 4 * 1024 * 1024
#: Largest form field without a file name that is kept in memory.
MAX_FIELD_BYTES = 64 * 1024
#: Multipart framing allowed on top of ``server.maxUploadSize`` (as Streamlit allows).
FRAMING_BYTES = 1024 * 1024


@dataclass
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    writer: SpillWriter | None = None
    data: bytearray = field(default_factory=bytearray)
    ended: bool = False
    ticket: bytes = b""


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return None


def _cookie(scope: dict, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for item in raw.decode("latin-1").split(";"):
        key, _, value = item.strip().partition("=")
        if key == name:
            return value
    return None


def _max_upload_bytes() -> int:
    from streamlit import config

    return int(config.get_option("server.maxUploadSize")) * 1024 * 1024


def _vouched(scope: dict, session_id: str) -> bool:
    """The checks Streamlit makes before it reads an upload's body."""
    from streamlit.runtime import Runtime
    from streamlit.web.server.server_util import is_xsrf_enabled
    from streamlit.web.server.starlette.starlette_app_utils import validate_xsrf_token
    from streamlit.web.server.starlette.starlette_server_config import XSRF_COOKIE_NAME

    if is_xsrf_enabled():
        token = _header(scope, b"x-xsrftoken")
        if not validate_xsrf_token(
            token.decode("latin-1") if token else None, _cookie(scope, XSRF_COOKIE_NAME)
        ):
            return False
    if not (Runtime.exists() and Runtime.instance().is_active_session(session_id)):
        return False
    length = _header(scope, b"content-length")
    if length is not None:
        try:
            if int(length) > _max_upload_bytes():
                return False
        except ValueError:
            return False
    return True


def _file_name(part: _Part) -> str | None:
    for key, value in part.headers:
        if key.lower() == b"content-disposition":
            _, options = parse_options_header(value)
            raw = options.get(b"filename")
            if raw is None:
                return None
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw.decode("latin-1")
    return None


class SpillUploads:
    """ASGI middleware that writes ``st.file_uploader`` uploads to the upload store.

    Parameters
    ----------
    app
        The ASGI application behind it (Streamlit's).
    store
        Returns the store to write to (default: the process-wide one).
    """

    def __init__(self, app, store: Callable[[], UploadStore] = shared_store) -> None:
        self.app = app
        self._store = store

    async def __call__(self, scope, receive, send) -> None:
        match = None
        if scope["type"] == "http" and scope.get("method") == "PUT":
            match = _UPLOAD_PATH.search(scope.get("path", ""))
        if match is None:
            await self.app(scope, receive, send)
            return
        session_id, file_id = match.groups()
        content_type, options = parse_options_header(_header(scope, b"content-type"))
        boundary = options.get(b"boundary")
        if (
            content_type != b"multipart/form-data"
            or not boundary
            or not _vouched(scope, session_id)
        ):
            await self.app(scope, receive, send)
            return
        store = self._store()
        try:
            parts = await self._receive_parts(receive, boundary, store)
        except _Refused as refused:
            await _respond(send, refused.status, refused.text)
            return
        if parts is None:  # the client went away
            return
        for part in parts:
            if part.writer is not None:
                stored = await anyio.to_thread.run_sync(part.writer.commit)
                part.ticket = TICKET_PREFIX + store.claim(session_id, file_id, stored).encode()
        body = _rebuild(parts, boundary)
        status: list[int] = []

        async def replay():
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        async def watch(message):
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.app({**scope, "headers": headers}, replay, watch)
        if status and status[0] >= 400:
            for part in parts:
                if part.ticket:
                    store.unclaim(part.ticket[len(TICKET_PREFIX) :].decode())

    async def _receive_parts(self, receive, boundary: bytes, store: UploadStore):
        """Parse the body as it arrives; file parts go to disk. None if the client left."""
        parts: list[_Part] = []
        pending_header = [b"", b""]

        def begin():
            parts.append(_Part())

        def header_field(data, start, end):
            pending_header[0] += data[start:end]

        def header_value(data, start, end):
            pending_header[1] += data[start:end]

        def header_end():
            parts[-1].headers.append((pending_header[0], pending_header[1]))
            pending_header[0] = pending_header[1] = b""

        def headers_done():
            name = _file_name(parts[-1])
            if name is not None:
                parts[-1].writer = store.writer(name)

        def data(chunk, start, end):
            parts[-1].data += chunk[start:end]

        def part_end():
            parts[-1].ended = True

        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": begin,
                "on_header_field": header_field,
                "on_header_value": header_value,
                "on_header_end": header_end,
                "on_headers_finished": headers_done,
                "on_part_data": data,
                "on_part_end": part_end,
            },
        )
        limit = _max_upload_bytes() + FRAMING_BYTES
        received = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    _abort(parts)
                    return None
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise _Refused(413, "File too large")
                if chunk:
                    parser.write(chunk)
                await _flush(parts)
                if not message.get("more_body", False):
                    break
            parser.finalize()
            await _flush(parts)
            if any(part.writer is not None and not part.ended for part in parts):
                raise _Refused(400, "The upload ended in the middle of a file")
        except MultipartParseError:
            _abort(parts)
            raise _Refused(400, "Malformed upload") from None
        except BaseException:
            _abort(parts)
            raise
        return parts


async def _flush(parts: list[_Part]) -> None:
    """Hand gathered file data to a worker thread; keep small fields in memory."""
    for part in parts:
        if part.writer is None:
            if len(part.data) > MAX_FIELD_BYTES:
                raise _Refused(413, "Form field too large")
            continue
        if part.data and (part.ended or len(part.data) >= FLUSH_BYTES):
            chunk, part.data = part.data, bytearray()
            await anyio.to_thread.run_sync(part.writer.write, chunk)


def _abort(parts: list[_Part]) -> None:
    for part in parts:
        if part.writer is not None:
            part.writer.abort()


def _rebuild(parts: list[_Part], boundary: bytes) -> bytes:
    """The multipart body Streamlit receives: the same parts, files replaced by their tickets."""
    out = bytearray()
    for part in parts:
        out += b"--" + boundary + b"\r\n"
        for key, value in part.headers:
            out += key + b": " + value + b"\r\n"
        out += b"\r\n" + (part.ticket if part.writer is not None else bytes(part.data)) + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return bytes(out)


async def _respond(send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

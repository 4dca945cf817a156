"""Uploaded files on disk, addressed by content.

Every distinct upload is one file ``<root>/<sha256>``, written as it arrives and never held in
memory; readers memory-map it like any file on disk. Sessions *hold* the files they use (by an
owner id and a slot name); a file nobody holds stays restorable through its key for
``keep_seconds`` after its last use, and is deleted after that, or earlier (oldest first) when
files nobody holds take more than ``disk_bytes``.

The restore key of a file is an HMAC of its digest with a secret kept in the store's folder: it
cannot be guessed without the secret, and the same content always gets the same key, across
server restarts too. A small JSON file beside each upload keeps its name, size and last use, so a
restarted server still knows them.

This module does not import Streamlit.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

#: Name of the secret behind the restore keys, inside the store's folder.
SECRET_FILE = ".secret"
#: Sub-folder of partly received uploads.
PARTIAL_DIR = "partial"
#: Length (hex characters) of restore keys: 128 bits.
KEY_CHARS = 32
#: Partial files older than this (seconds) are left-overs of a stopped server.
STALE_PARTIAL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class StoredFile:
    """One stored upload: content digest, restore key, the name it was uploaded as, its size
    in bytes and its path."""

    digest: str
    key: str
    name: str
    size: int
    path: Path


@dataclass
class _Meta:
    name: str
    size: int
    last_used: float


class SpillWriter:
    """Receives one upload chunk by chunk, hashing it on the way; :meth:`commit` files it under
    its digest, :meth:`abort` throws it away. Not thread-safe: one writer per upload."""

    def __init__(self, store: UploadStore, name: str) -> None:
        self._store = store
        self.name = name
        self.size = 0
        self._hash = hashlib.sha256()
        partial = store.root / PARTIAL_DIR
        partial.mkdir(parents=True, exist_ok=True)
        self._path = partial / f"{secrets.token_hex(12)}.part"
        descriptor = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._handle = os.fdopen(descriptor, "wb")

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the file and the digest."""
        self._hash.update(data)
        self._handle.write(data)
        self.size += len(data)

    def commit(self) -> StoredFile:
        """Close the file and file it under its digest (an identical upload is reused)."""
        self._handle.close()
        return self._store._adopt(self._path, self._hash.hexdigest(), self.name, self.size)

    def abort(self) -> None:
        """Close and delete the partial file."""
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(OSError):
            self._path.unlink()


class UploadStore:
    """Content-addressed uploads in ``root`` with per-owner holds (see the module notes).

    Parameters
    ----------
    root
        Folder of the store (created if missing).
    keep_seconds
        How long a file nobody holds stays restorable after its last use.
    disk_bytes
        Bytes that files nobody holds may take; beyond it the least recently used go first.
    clock
        Time source (seconds), replaceable in tests.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        keep_seconds: float,
        disk_bytes: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        self.keep_seconds = float(keep_seconds)
        self.disk_bytes = float(disk_bytes)
        self._clock = clock
        self._lock = threading.RLock()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._secret = self._load_secret()
        self._meta: dict[str, _Meta] = {}
        self._by_key: dict[str, str] = {}
        self._holds: dict[str, dict[str, frozenset[str]]] = {}
        self._claims: dict[str, tuple[str, str, str]] = {}
        self._scan()

    # ------------------------------------------------------------------ files

    def writer(self, name: str) -> SpillWriter:
        """A writer for an upload called ``name`` that arrives in chunks."""
        return SpillWriter(self, name)

    def put_bytes(self, name: str, data: bytes | memoryview) -> StoredFile:
        """Store ``data`` (an upload already in memory) under its digest."""
        writer = self.writer(name)
        try:
            writer.write(data)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def get(self, digest: str) -> StoredFile | None:
        """The stored file with this content digest, or None."""
        with self._lock:
            meta = self._meta.get(digest)
            if meta is None or not self._path(digest).is_file():
                return None
            return self._stored(digest, meta)

    def find(self, key: str) -> StoredFile | None:
        """The file whose restore key is ``key``, if it is still kept; marks it as used now."""
        if not isinstance(key, str) or len(key) != KEY_CHARS:
            return None
        with self._lock:
            digest = self._by_key.get(key)
            meta = self._meta.get(digest) if digest else None
            if meta is None or not self._path(digest).is_file():
                return None
            if not self._held(digest) and self._expired(meta):
                return None
            self._touch(digest)
            return self._stored(digest, meta)

    def key_of(self, digest: str) -> str:
        """The restore key of the content with this digest."""
        return hmac.new(self._secret, digest.encode(), hashlib.sha256).hexdigest()[:KEY_CHARS]

    # ------------------------------------------------------------------ claims

    def claim(self, owner: str, file_id: str, stored: StoredFile) -> str:
        """A one-owner ticket for ``stored``: the upload route hands it to the app in place of
        the content; only ``owner`` asking for ``file_id`` can redeem it."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._claims[token] = (owner, file_id, stored.digest)
            self._touch(stored.digest)
        return token

    def redeem(self, token: str, owner: str, file_id: str) -> StoredFile | None:
        """The file behind ``token`` when ``owner`` claimed it for ``file_id``, else None."""
        with self._lock:
            found = self._claims.get(token)
            if found is None or found[:2] != (owner, file_id):
                return None
            return self.get(found[2])

    def unclaim(self, token: str) -> None:
        """Forget a ticket (its upload was refused)."""
        with self._lock:
            self._claims.pop(token, None)

    # ------------------------------------------------------------------ holds

    def hold(self, owner: str, slot: str, digests: Iterable[str]) -> None:
        """Record that ``owner`` uses these files in ``slot`` (replacing what the slot held)."""
        wanted = frozenset(d for d in digests if d)
        with self._lock:
            slots = self._holds.setdefault(owner, {})
            if slots.get(slot) == wanted:
                return
            released = slots.get(slot, frozenset()) - wanted
            slots[slot] = wanted
            for digest in released | wanted:
                self._touch(digest)

    def release(self, owner: str) -> None:
        """``owner`` uses no file any more (its session ended)."""
        with self._lock:
            slots = self._holds.pop(owner, {})
            for token in [t for t, c in self._claims.items() if c[0] == owner]:
                del self._claims[token]
            for digest in frozenset().union(*slots.values()) if slots else ():
                self._touch(digest)

    def owners(self) -> list[str]:
        """Owners that hold files or tickets."""
        with self._lock:
            return list(set(self._holds) | {c[0] for c in self._claims.values()})

    def held_by(self, owner: str) -> frozenset[str]:
        """Digests ``owner`` holds, over all its slots."""
        with self._lock:
            return frozenset().union(*self._holds.get(owner, {}).values())

    # ------------------------------------------------------------------ clean-up

    def collect(self) -> list[str]:
        """Delete files nobody holds whose keep time is over, then the least recently used
        until files nobody holds fit in ``disk_bytes``; returns the deleted digests."""
        deleted: list[str] = []
        with self._lock:
            loose = sorted(
                (d for d in self._meta if not self._held(d)),
                key=lambda d: self._meta[d].last_used,
            )
            total = sum(self._meta[d].size for d in loose)
            for digest in loose:
                meta = self._meta[digest]
                if self._expired(meta) or total > self.disk_bytes:
                    total -= meta.size
                    self._delete(digest)
                    deleted.append(digest)
        self._clear_stale_partials()
        return deleted

    def disk_usage(self) -> tuple[int, int]:
        """Bytes of held files and of all stored files."""
        with self._lock:
            held = sum(m.size for d, m in self._meta.items() if self._held(d))
            return held, sum(m.size for m in self._meta.values())

    # ------------------------------------------------------------------ internals

    def _path(self, digest: str) -> Path:
        return self.root / digest

    def _meta_path(self, digest: str) -> Path:
        return self.root / f"{digest}.json"

    def _stored(self, digest: str, meta: _Meta) -> StoredFile:
        return StoredFile(
            digest=digest,
            key=self.key_of(digest),
            name=meta.name,
            size=meta.size,
            path=self._path(digest),
        )

    def _held(self, digest: str) -> bool:
        """True when a session holds the file or has an unredeemed ticket for it."""
        return any(
            digest in held for slots in self._holds.values() for held in slots.values()
        ) or any(claim[2] == digest for claim in self._claims.values())

    def _expired(self, meta: _Meta) -> bool:
        return self._clock() - meta.last_used > self.keep_seconds

    def _adopt(self, partial: Path, digest: str, name: str, size: int) -> StoredFile:
        with self._lock:
            target = self._path(digest)
            if target.is_file() and target.stat().st_size == size:
                partial.unlink()
            else:
                os.replace(partial, target)
            self._meta[digest] = _Meta(name=name, size=size, last_used=self._clock())
            self._by_key[self.key_of(digest)] = digest
            self._write_meta(digest)
            return self._stored(digest, self._meta[digest])

    def _touch(self, digest: str) -> None:
        meta = self._meta.get(digest)
        if meta is not None:
            meta.last_used = self._clock()
            self._write_meta(digest)

    def _write_meta(self, digest: str) -> None:
        meta = self._meta[digest]
        text = json.dumps({"name": meta.name, "size": meta.size, "last_used": meta.last_used})
        temporary = self._meta_path(digest).with_suffix(".json.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(text)
            os.replace(temporary, self._meta_path(digest))
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()

    def _delete(self, digest: str) -> None:
        self._meta.pop(digest, None)
        self._by_key.pop(self.key_of(digest), None)
        for path in (self._path(digest), self._meta_path(digest)):
            with contextlib.suppress(OSError):
                path.unlink()

    def _scan(self) -> None:
        """Pick up the files a previous server left (their names, sizes and last use)."""
        for path in self.root.iterdir():
            digest = path.name
            if len(digest) != 64 or not path.is_file():
                continue
            try:
                raw = json.loads(self._meta_path(digest).read_text())
                meta = _Meta(str(raw["name"]), int(raw["size"]), float(raw["last_used"]))
            except (OSError, ValueError, KeyError, TypeError):
                stat = path.stat()
                meta = _Meta("upload", stat.st_size, stat.st_mtime)
            self._meta[digest] = meta
            self._by_key[self.key_of(digest)] = digest

    def _clear_stale_partials(self) -> None:
        partial = self.root / PARTIAL_DIR
        if not partial.is_dir():
            return
        now = time.time()
        for path in partial.glob("*.part"):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > STALE_PARTIAL_SECONDS:
                    path.unlink()

    def _load_secret(self) -> bytes:
        path = self.root / SECRET_FILE
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(32))
        secret = path.read_bytes()
        if len(secret) < 16:
            raise OSError(f"The upload store's secret {path} is damaged; delete it.")
        return secret


@functools.cache
def shared_store() -> UploadStore:
    """The process-wide store, configured by :func:`app_support.settings.settings`."""
    from app_support.settings import settings

    config = settings()
    return UploadStore(
        config.upload_dir,
        keep_seconds=config.upload_keep_hours * 3600,
        disk_bytes=config.upload_disk_gb * 1e9,
    )

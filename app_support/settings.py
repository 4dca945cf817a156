"""The dashboard's server settings: environment variables first, then ``qscore.toml``.

Each setting has an environment variable (``QSCORE_...``) and a key of the ``[qscore]`` table of
``qscore.toml`` in the folder the server is started from; the variable wins. Values that cannot be
read fall back to the default, so a typo never stops the server.

| setting | variable | key | default |
|---|---|---|---|
| read paths on the server's disk | ``QSCORE_ALLOW_LOCAL_PATHS`` | ``allow_local_paths`` | off |
| folder of uploaded files | ``QSCORE_UPLOAD_DIR`` | ``upload_dir`` | ``<temp>/qscore-uploads-<user>`` |
| hours an unused upload can be restored | ``QSCORE_UPLOAD_KEEP_HOURS`` | ``upload_keep_hours`` | 24 |
| disk (GB) for uploads no session uses | ``QSCORE_UPLOAD_DISK_GB`` | ``upload_disk_gb`` | 20 |
| memory (MB) for scored results | ``QSCORE_RESULT_CACHE_MB`` | ``result_cache_mb`` | 1024 |
"""

from __future__ import annotations

import getpass
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "qscore.toml"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """The dashboard's server settings (see the module notes for names and defaults)."""

    allow_local_paths: bool = False
    upload_dir: Path = Path(tempfile.gettempdir()) / "qscore-uploads"
    upload_keep_hours: float = 24.0
    upload_disk_gb: float = 20.0
    result_cache_mb: float = 1024.0


def _file_settings(config_dir: Path) -> dict:
    config = config_dir / CONFIG_FILE
    if not config.is_file():
        return {}
    try:
        table = tomllib.loads(config.read_text()).get("qscore", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    return table if isinstance(table, dict) else {}


def _raw(name: str, table: dict) -> object | None:
    env = os.environ.get(f"QSCORE_{name.upper()}", "").strip()
    return env if env else table.get(name)


def _flag(value: object | None, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _positive(value: object | None, default: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _default_upload_dir() -> Path:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"qscore-uploads-{user}"


def settings(config_dir: Path | None = None) -> Settings:
    """The settings in force, read from the environment and ``qscore.toml`` of ``config_dir``
    (default: the working directory).

    Parameters
    ----------
    config_dir
        Folder holding ``qscore.toml``; the working directory when None.

    Returns
    -------
    Settings
        The values in force; unreadable or non-positive values are replaced by the defaults.
    """
    table = _file_settings(config_dir or Path.cwd())
    base = Settings()
    upload_dir = _raw("upload_dir", table)
    return Settings(
        allow_local_paths=_flag(_raw("allow_local_paths", table), base.allow_local_paths),
        upload_dir=Path(str(upload_dir)).expanduser() if upload_dir else _default_upload_dir(),
        upload_keep_hours=_positive(_raw("upload_keep_hours", table), base.upload_keep_hours),
        upload_disk_gb=_positive(_raw("upload_disk_gb", table), base.upload_disk_gb),
        result_cache_mb=_positive(_raw("result_cache_mb", table), base.result_cache_mb),
    )

"""Every dashboard helper module imports on its own, whatever was imported before it (an import
cycle shows only when a cycle's member is the first one a page or a test imports)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest

import app_support

MODULES = sorted(f"app_support.{m.name}" for m in pkgutil.iter_modules(app_support.__path__))


def _ours(name: str) -> bool:
    return name == "app_support" or name.startswith("app_support.")


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_first(module):
    saved = {n: m for n, m in sys.modules.items() if _ours(n)}
    try:
        for name in saved:
            del sys.modules[name]
        assert importlib.import_module(module).__name__ == module
    finally:
        for name in [n for n in sys.modules if _ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)

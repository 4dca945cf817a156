"""The public API reads like a library's: numpydoc sections on every entry point of ``qscore``,
and every docstring example in the package runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import qscore

#: Entry points whose docstrings must carry a runnable example.
WITH_EXAMPLES = ["load_and_score", "expected_q", "verdict", "relative_q"]


def _modules() -> list[str]:
    names = ["qscore"]
    for info in pkgutil.walk_packages(qscore.__path__, prefix="qscore."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            names.append(info.name)
    return names


@pytest.mark.parametrize("name", qscore.__all__)
def test_entry_points_have_numpydoc_sections(name):
    obj = getattr(qscore, name)
    doc = inspect.getdoc(obj) or ""
    assert doc, f"qscore.{name} has no docstring"
    if inspect.isclass(obj):
        return
    assert "Parameters\n----------" in doc, f"qscore.{name} has no Parameters section"
    returns = inspect.signature(obj).return_annotation
    if returns not in (None, "None"):
        assert "Returns\n-------" in doc, f"qscore.{name} has no Returns section"


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_main_entry_points_have_examples(name):
    assert ">>> " in (inspect.getdoc(getattr(qscore, name)) or "")


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(mod, module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {module} failed"

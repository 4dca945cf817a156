"""Fuzz suite: a few hundred damaged, hostile and odd inputs to ``qscore score``.

Each case (``tests/fuzz_cases.py``, deterministic) runs in a forked child (``tests/fuzz_runner.py``)
and must end in exactly one of two ways: a valid score (exit 0, JSON with a finite model Q in
[-1, 1] and at least one atom scored, nothing on standard error) or a refusal (exit 2 and one line
``qscore score: <sentence>``). A traceback, a hang (more than 30 s), a peak resident memory above
600 MB or anything else fails the suite. The table of cases per family and outcome is printed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import EMD30342
from tests.fuzz_cases import Case, build_cases

#: Peak resident memory (bytes) a case may reach, inherited pages of the runner included.
MEMORY_LIMIT = 600 * 2**20
RUNNERS = 2
OK = ("scored", "refused")


def classify(result: dict) -> str:
    """The outcome of one case."""
    if result["hang"]:
        return "hang"
    if result["max_rss"] > MEMORY_LIMIT:
        return "memory"
    err = result["stderr"]
    if "Traceback" in err:
        return "traceback"
    if result["exit"] == 0:
        try:
            doc = json.loads(result["stdout"])
        except ValueError:
            return "unreadable output"
        q = doc.get("model_q")
        valid = isinstance(q, float) and math.isfinite(q) and -1.0 <= q <= 1.0
        if not valid or doc.get("atoms_scored", 0) < 1:
            return "invalid score"
        return "scored" if not err.strip() else "scored, stderr not empty"
    if result["exit"] == 2:
        lines = err.rstrip("\n").split("\n")
        sentence = len(lines) == 1 and lines[0].startswith("qscore score: ")
        return "refused" if sentence and lines[0].rstrip()[-1] in ".?)" else "bad message"
    return f"exit {result['exit']}"


def run_cases(cases: list[Case]) -> list[dict]:
    """Every case's result, from RUNNERS runner processes working on interleaved shares."""
    runner = Path(__file__).with_name("fuzz_runner.py")
    procs = []
    for k in range(RUNNERS):
        share = [
            json.dumps({"id": i, "map": c.map, "model": c.model, "args": list(c.args)})
            for i, c in enumerate(cases)
            if i % RUNNERS == k
        ]
        proc = subprocess.Popen(
            [sys.executable, str(runner)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**_environment(), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        )
        procs.append((proc, "\n".join(share) + "\n"))
    results: dict[int, dict] = {}
    for proc, stdin in procs:
        out, _ = proc.communicate(stdin, timeout=1800)
        assert proc.returncode == 0, "the fuzz runner itself failed"
        for line in out.splitlines():
            row = json.loads(line)
            results[row["id"]] = row
    return [results[i] for i in range(len(cases))]


def _environment() -> dict[str, str]:
    import os

    return dict(os.environ)


def table(cases: list[Case], outcomes: list[str], results: list[dict]) -> str:
    """Cases per family and outcome, with totals, the slowest case and the largest memory."""
    kinds = sorted(set(outcomes), key=lambda o: (o not in OK, o))
    counts = Counter(zip((c.family for c in cases), outcomes, strict=True))
    families = list(dict.fromkeys(c.family for c in cases))
    width = max(len(f) for f in families) + 2
    lines = ["".join([f"{'family':<{width}}", *(f"{k:>10}" for k in kinds), f"{'total':>8}"])]
    for family in families:
        row = [counts[(family, k)] for k in kinds]
        lines.append("".join([f"{family:<{width}}", *(f"{n:>10}" for n in row), f"{sum(row):>8}"]))
    totals = Counter(outcomes)
    lines.append(
        "".join([f"{'all':<{width}}", *(f"{totals[k]:>10}" for k in kinds), f"{len(cases):>8}"])
    )
    slowest = max(range(len(cases)), key=lambda i: results[i]["seconds"])
    largest = max(range(len(cases)), key=lambda i: results[i]["max_rss"])
    cpu = sum(r["cpu_seconds"] for r in results)
    lines.append(
        f"slowest case {results[slowest]['seconds']:.2f} s ({cases[slowest].name}); largest peak "
        f"RSS {results[largest]['max_rss'] / 2**20:.0f} MB ({cases[largest].name}); "
        f"{cpu:.0f} CPU seconds in all"
    )
    return "\n".join(lines)


@pytest.mark.slow
def test_fuzz_cases_end_in_a_score_or_one_sentence(tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("fuzz")
    cases = build_cases(folder, EMD30342 if EMD30342.is_dir() else None)
    assert len(cases) >= 300
    results = run_cases(cases)
    outcomes = [classify(r) for r in results]
    with capsys.disabled():
        print(
            "\nFuzz cases of `qscore score` per family and outcome:\n"
            + table(cases, outcomes, results)
        )
    bad = [
        f"{case.name} [{outcome}]: {result['stderr'].strip()[-500:]}"
        for case, outcome, result in zip(cases, outcomes, results, strict=True)
        if outcome not in OK
    ]
    assert not bad, "\n".join(bad)
    # The intact inputs score, so every refusal is a real refusal, not a broken base pair.
    intact = [o for c, o in zip(cases, outcomes, strict=True) if c.family.endswith("intact")]
    assert intact and all(o == "scored" for o in intact)

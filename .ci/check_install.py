"""Install paths: the sdist into clean virtual environments, without OpenMP and without a compiler.

    python .ci/check_install.py [--keep DIR]

Builds an sdist of this tree, then for each case creates a fresh virtual environment, installs
the sdist (core dependencies only, from the package index) with ``CC`` set to

- ``no-openmp``: a wrapper around the system C compiler that rejects ``-fopenmp``, as Apple's
  clang does: the kernel must build serial;
- ``no-compiler``: ``/bin/false``: the kernel cannot build, and the package must install anyway;

and checks, in that environment: ``import qscore`` and ``qscore relative`` work; whether the
kernel is there and has OpenMP; ``qscore batch`` without its extra says which extra to install;
that EMD-30342 (``../shared/data/emd-30342``) scores, with the compiled kernel where it built
and with the NumPy engine where it did not, to MapQ's per-atom numbers (within their 3-decimal
rounding) and to the numbers of the environment running this script (exactly, or within
``ENGINE_TOLERANCE`` for the NumPy engine); and that ``qscore score --json`` names that engine,
with one line on standard error when the NumPy engine stands in. Exit status 1 when a check
fails. The wheels and pip's cache are reused between runs, so only the first run downloads.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "emd-30342"
#: MapQ's files carry 3 decimals.
MAPQ_TOLERANCE = 0.0006
#: The NumPy engine agrees with the compiled kernel to this (the compiled kernel: exactly).
ENGINE_TOLERANCE = 1e-9

NO_OPENMP_CC = """#!/bin/sh
# A C compiler that rejects OpenMP, as Apple's clang does.
for arg in "$@"; do
    case "$arg" in
        -fopenmp*|-lgomp|-lomp) echo "cc: error: unsupported option '$arg'" >&2; exit 1 ;;
    esac
done
exec {cc} "$@"
"""

#: Run inside each environment: prints one "key: value" line per finding.
PROBE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import qscore
    print("import: ok")
    from qscore.engine import compiled
    print("kernel:", compiled.available())
    print("openmp:", compiled.has_openmp())
    data, out = sys.argv[1], sys.argv[2]
    from qscore.io.maps import read_map
    from qscore.io.models import read_model
    from qscore.engine import score
    dmap = read_map(data + "/emd_30342_chainA_zone.mrc")
    model = read_model(data + "/7cec_chainA.cif")
    try:
        result = score(dmap, model, sigma=0.6, mode="direct")
    except qscore.errors.QscoreError as exc:
        print("score: not possible:", exc)
    else:
        np.save(out, result.q)
        print("score: saved")
        print("engine:", result.engine)
    """
)


def run(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run ``cmd``; its output, or an AssertionError with the output when it fails."""
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
    return proc.stdout + proc.stderr


def build_sdist(out: Path) -> Path:
    """``python -m build --sdist`` of this tree into ``out``."""
    run([sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(REPO)])
    (sdist,) = out.glob("qscore-*.tar.gz")
    return sdist


def mapq_scores(path: Path):
    """Per-atom Q from a MapQ output mmCIF, read by the package's own reader."""
    from qscore.io.export import stored_qscores
    from qscore.io.models import read_model

    return stored_qscores(read_model(path))


def reference_scores():
    """This environment's own Q (the compiled kernel as installed here, with OpenMP if built)."""
    from qscore.engine import score
    from qscore.io.maps import read_map
    from qscore.io.models import read_model

    dmap = read_map(DATA / "emd_30342_chainA_zone.mrc")
    model = read_model(DATA / "7cec_chainA.cif")
    return score(dmap, model, sigma=0.6, mode="direct").q


def check_case(name: str, cc: str, sdist: Path, work: Path, expect_kernel: bool) -> list[str]:
    """Install the sdist with ``CC=cc`` into a fresh venv and run the checks; return failures."""
    import numpy as np

    failures: list[str] = []
    venv = work / f"venv-{name}"
    shutil.rmtree(venv, ignore_errors=True)
    start = time.perf_counter()
    run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(CC=cc, PIP_DISABLE_PIP_VERSION_CHECK="1")
    log = run([str(py), "-m", "pip", "install", "--quiet", str(sdist)], env=env)
    installed = time.perf_counter() - start
    print(f"[{name}] installed from the sdist in {installed:.0f} s (CC={cc})")
    if "building optional extension" in log.lower() or "failed" in log.lower():
        print(f"[{name}] pip said: " + " / ".join(log.strip().splitlines()[-3:]))
    findings = {}
    out = work / f"q-{name}.npy"
    out.unlink(missing_ok=True)
    probe = run([str(py), "-c", PROBE, str(DATA), str(out)], env=env, cwd=work)
    for line in probe.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            findings[key] = value
    print(f"[{name}] kernel {findings.get('kernel')}, OpenMP {findings.get('openmp')}")
    if findings.get("import") != "ok":
        failures.append(f"{name}: import qscore failed")
    if findings.get("kernel") != str(expect_kernel):
        failures.append(
            f"{name}: compiled kernel {findings.get('kernel')}, expected {expect_kernel}"
        )
    if findings.get("openmp") != "False":
        failures.append(f"{name}: the kernel was built with OpenMP although the compiler has none")
    qscore = str(venv / "bin" / "qscore")
    relative = run(
        [qscore, "relative", "--resolution", "3.9", "--q", "0.45", "--json", "-"], env=env
    )
    if '"q_relative_all"' not in relative:
        failures.append(f"{name}: qscore relative printed no Q_relative_all")
    else:
        print(f"[{name}] qscore relative: ok")
    manifest = work / "manifest.csv"
    manifest.write_text("id,map,model,resolution\n")
    batch = subprocess.run(
        [qscore, "batch", str(manifest), "--out", str(work / "batch-out")],
        env=env,
        capture_output=True,
        text=True,
    )
    if batch.returncode != 2 or "qscore[batch]" not in batch.stderr:
        failures.append(f"{name}: qscore batch without its extra did not name the extra")
    else:
        print(f"[{name}] qscore batch without the extra: {batch.stderr.strip()}")
    failures += check_cli_engine(name, qscore, env, expect_kernel)
    if findings.get("score") == "saved":
        engine = "compiled" if expect_kernel else "numpy"
        if findings.get("engine") != engine:
            failures.append(f"{name}: scored with {findings.get('engine')}, expected {engine}")
        q = np.load(out)
        mapq = mapq_scores(DATA / "mapq_single_process_sigma0.6.cif")
        worst = float(np.max(np.abs(q - mapq)))
        gap = float(np.max(np.abs(q - reference_scores())))
        print(
            f"[{name}] EMD-30342: {len(q)} atoms, max |Q - MapQ| {worst:.6f}, "
            f"max |Q - Q of the OpenMP kernel| {gap:.3g}"
        )
        if worst > MAPQ_TOLERANCE:
            failures.append(f"{name}: max |Q - MapQ| {worst:.6f} > {MAPQ_TOLERANCE}")
        if gap > (0.0 if expect_kernel else ENGINE_TOLERANCE):
            failures.append(f"{name}: Q differs from the OpenMP kernel's by {gap:.3g}")
    else:
        failures.append(f"{name}: could not score: {findings.get('score')}")
    return failures


def check_cli_engine(name: str, qscore: str, env: dict[str, str], expect_kernel: bool) -> list[str]:
    """``qscore score --json -`` on EMD-30342: the engine it names, and the fallback's one line."""
    import json

    engine = "compiled" if expect_kernel else "numpy"
    args = [str(DATA / "emd_30342_chainA_zone.mrc"), str(DATA / "7cec_chainA.cif")]
    proc = subprocess.run(
        [qscore, "score", *args, "--sigma", "0.6", "--json", "-"],
        env={k: v for k, v in env.items() if k != "QSCORE_ENGINE"},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return [f"{name}: qscore score exited {proc.returncode}: {proc.stderr.strip()[-500:]}"]
    said = proc.stderr.strip().splitlines()
    named = json.loads(proc.stdout).get("engine")
    print(f"[{name}] qscore score --json: engine {named}; stderr: {' / '.join(said) or '(none)'}")
    failures = []
    if named != engine:
        failures.append(f"{name}: qscore score --json named engine {named}, expected {engine}")
    fallback = [line for line in said if "NumPy engine scores instead" in line]
    if len(fallback) != (0 if expect_kernel else 1):
        failures.append(f"{name}: {len(fallback)} lines on the NumPy engine standing in")
    return failures


def main(argv: list[str] | None = None) -> int:
    """Build the sdist, check both install paths, print the findings."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: temp)")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"check_install: the reference data {DATA} is missing", file=sys.stderr)
        return 1
    work = Path(args.keep or tempfile.mkdtemp(prefix="qscore-install-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        sdist = build_sdist(work / "dist")
        print(f"sdist: {sdist.name} ({sdist.stat().st_size / 1e3:.0f} kB)")
        system_cc = shutil.which("cc") or shutil.which("gcc") or "cc"
        wrapper = work / "cc-no-openmp"
        wrapper.write_text(NO_OPENMP_CC.format(cc=system_cc))
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        failures = check_case("no-openmp", str(wrapper), sdist, work, expect_kernel=True)
        failures += check_case("no-compiler", "/bin/false", sdist, work, expect_kernel=False)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"FAILED: {failure}")
    print("install paths: " + ("all checks passed" if not failures else f"{len(failures)} failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run fuzz cases of ``qscore score`` in forked children, each with its own limits and measures.

Started as a subprocess by ``tests/test_fuzz.py``: the libraries are imported once here, then
every case (one JSON line on standard input) runs in a child forked from this process, with
standard output and error captured to files, one kernel thread and an address-space cap as a
safety net. The child's exit code, wall time and peak resident memory (``ru_maxrss``, which
includes the pages inherited from this process) are written back as one JSON line per case.
A child still running after the time limit is killed and reported as a hang.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
import traceback

#: Seconds a case may take before it counts as a hang.
TIME_LIMIT = 30.0
#: Extra address space (bytes) a child may map beyond this process's, as a safety net.
ADDRESS_HEADROOM = 3 * 2**30


def _address_space() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(case: dict, out_path: str, err_path: str, limit: int) -> None:
    """Run one case and leave with its exit code; never returns."""
    code = 1
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        from qscore.cli.main import main

        code = main(["score", case["map"], case["model"], "--json", "-", *case["args"]])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run(case: dict, scratch: str, limit: int) -> dict:
    out_path = os.path.join(scratch, "out")
    err_path = os.path.join(scratch, "err")
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child(case, out_path, err_path, limit)
    status, usage, hang = 0, None, False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() - start > TIME_LIMIT:
            os.kill(pid, 9)
            _, status, usage = os.wait4(pid, 0)
            hang = True
            break
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    with open(out_path, encoding="utf-8", errors="replace") as handle:
        stdout = handle.read()
    with open(err_path, encoding="utf-8", errors="replace") as handle:
        stderr = handle.read()
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "hang": hang,
        "seconds": seconds,
        "max_rss": usage.ru_maxrss * 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "stdout": stdout[-20000:],
        "stderr": stderr[-4000:],
    }


def main() -> None:
    os.environ["QSCORE_THREADS"] = "1"
    # Import every library a case uses once, here, rather than in each child.
    import qscore.analysis.aggregate
    import qscore.analysis.context
    import qscore.analysis.reference
    import qscore.cli.main
    import qscore.cli.score
    import qscore.io.export
    import qscore.pipeline  # noqa: F401

    limit = _address_space() + ADDRESS_HEADROOM
    with tempfile.TemporaryDirectory(prefix="qscore-fuzz-") as scratch:
        for line in sys.stdin:
            case = json.loads(line)
            result = _run(case, scratch, limit)
            sys.stdout.write(json.dumps({"id": case["id"], **result}) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

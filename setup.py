"""Build the compiled kernel of qscore.engine (everything else is declared in pyproject.toml).

The kernel is optional: when no C compiler works, the extension is skipped with a warning and the
pure-Python package still installs (``qscore.engine.compiled.available()`` is then False). Each
compiler flag is tried before it is used, so the same file builds with GCC, Clang (Apple's too),
MSVC or anything else that compiles C99:

- optimisation and strict floating point (no contraction into fused multiply-adds, no fast math),
  so that the kernel's arithmetic gives the same numbers everywhere;
- OpenMP when the compiler and its runtime support it; otherwise the kernel is built serial, with
  identical results (only slower on many cores).
"""

from __future__ import annotations

import os
import shutil
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

FLAG_PROBE = "int main(void) { return 0; }\n"
OPENMP_PROBE = """#include <omp.h>
int main(void) {
    int n = 0;
#pragma omp parallel reduction(+ : n)
    n += 1;
    return omp_get_max_threads() > 0 && n > 0 ? 0 : 1;
}
"""


def _works(compiler, source: str, compile_args: list[str], link_args: list[str] | None) -> bool:
    """Whether ``source`` compiles with ``compile_args`` (and links with ``link_args`` if given)."""
    folder = tempfile.mkdtemp(prefix="qscore-probe-")
    try:
        path = os.path.join(folder, "probe.c")
        with open(path, "w") as fh:
            fh.write(source)
        objects = compiler.compile([path], output_dir=folder, extra_postargs=compile_args)
        if link_args is not None:
            compiler.link_executable(objects, "probe", output_dir=folder, extra_postargs=link_args)
        return True
    except Exception:  # any failure (compiler missing, flag rejected, no runtime) means "no"
        return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class BuildKernel(build_ext):
    """``build_ext`` that keeps only the compiler flags the compiler accepts."""

    def build_extensions(self) -> None:
        compiler = self.compiler
        if compiler.compiler_type == "msvc":
            wanted, openmp = ["/O2", "/fp:precise"], (["/openmp"], [])
        else:
            wanted = ["-O3", "-ffp-contract=off", "-fno-fast-math"]
            openmp = (["-fopenmp"], ["-fopenmp"])
        flags = [flag for flag in wanted if _works(compiler, FLAG_PROBE, [flag], None)]
        link: list[str] = []
        if _works(compiler, OPENMP_PROBE, [*flags, *openmp[0]], openmp[1]):
            flags += openmp[0]
            link = openmp[1]
            print("qscore: building the kernel with OpenMP")
        else:
            print("qscore: the C compiler has no OpenMP; building the serial kernel")
        for ext in self.extensions:
            ext.extra_compile_args = [*flags, *ext.extra_compile_args]
            ext.extra_link_args = [*link, *ext.extra_link_args]
        super().build_extensions()


setup(
    ext_modules=[
        Extension("qscore.engine._kernel", sources=["qscore/engine/_kernel.c"], optional=True)
    ],
    cmdclass={"build_ext": BuildKernel},
)

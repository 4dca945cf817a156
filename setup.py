"""Build the compiled kernel of qscore.engine (everything else is declared in pyproject.toml)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "qscore.engine._kernel",
            sources=["qscore/engine/_kernel.c"],
            extra_compile_args=["-O2", "-fopenmp", "-ffp-contract=off", "-fno-fast-math"],
            extra_link_args=["-fopenmp"],
        )
    ]
)

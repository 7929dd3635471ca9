"""Run every benchmark: ``python -m bench [NAME ...]`` from the repository root."""

from __future__ import annotations

import os

# Single-threaded numeric libraries, before anything imports numpy.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import importlib  # noqa: E402
import sys  # noqa: E402

BENCHMARKS: tuple[str, ...] = ("geo_lookup",)


def main(argv: list[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    rc = 0
    for name in names:
        print(f"=== bench.{name} ===", flush=True)
        module = importlib.import_module(f"bench.{name}")
        rc = max(rc, int(module.main([]) or 0))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())

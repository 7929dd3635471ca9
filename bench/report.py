"""Tiny helpers shared by the benchmarks: console tables and docs/benchmarks.md sections."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = REPO_ROOT / "docs" / "benchmarks.md"

_INTRO = (
    "# Benchmarks\n\n"
    "Numbers measured by the scripts in `bench/` (run them from the repository root with\n"
    "`python -m bench` for all, or `python -m bench.<name>` for one). Each section below is\n"
    "rewritten by its script on every run and records the exact command, the machine, the date\n"
    "and the data it ran on; edit the scripts, not the sections.\n"
)


def write_section(name: str, markdown: str, path: Path | None = None) -> Path:
    """Replace (or append) the section ``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->``."""
    path = Path(path) if path is not None else BENCHMARKS_MD
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _INTRO
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _cells(rows: Sequence[Sequence[object]]) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in rows]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Plain aligned text table."""
    body = _cells(rows)
    widths = [len(h) for h in headers]
    for row in body:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers))
    sep = "  ".join("-" * w for w in widths)
    out = [line, sep]
    for row in body:
        out.append("  ".join(v.rjust(widths[i]) if i else v.ljust(widths[i]) for i, v in enumerate(row)))
    return "\n".join(out)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    print(format_table(headers, rows))


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    body = _cells(rows)
    out = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|",
    ]
    out += ["| " + " | ".join(v.replace("|", "\\|") for v in row) + " |" for row in body]
    return "\n".join(out)


def machine_description() -> str:
    """e.g. '2 CPUs (nproc), AMD EPYC, Linux 6.1, Python 3.11.2'."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        ncpu = os.cpu_count() or 0
    system = f"{platform.system()} {platform.release()}"
    return f"{ncpu} CPUs (nproc), {model}, {system}, Python {platform.python_version()}"

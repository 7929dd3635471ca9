"""Text tables for the dispatch commands (Chinese characters take two terminal columns)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from civicgrid.dispatch.textmodel import Evaluation


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ljust(text: str, n: int) -> str:
    return text + " " * max(0, n - width(text))


def rjust(text: str, n: int) -> str:
    return " " * max(0, n - width(text)) + text


def evaluation_lines(ev: Evaluation | dict[str, Any]) -> list[str]:
    e = ev.as_dict() if isinstance(ev, Evaluation) else ev
    labels = e["labels"]
    name_w = max([width(lab) for lab in labels] + [8])
    lines = [
        f"documents:       {e['documents']} ({e['folds']}-fold stratified cross-validation)",
        f"macro-F1:        {e['macro_f1']:.4f}",
        f"accuracy:        {e['accuracy']:.4f}",
        f"training:        {e['train_seconds']:.2f} s per fold",
        f"prediction:      {e['docs_per_second']:.0f} documents/second",
        "",
        f"{ljust('class', name_w)}  precision  recall  support",
    ]
    for lab in labels:
        lines.append(f"{ljust(lab, name_w)}  {e['precision'][lab]:9.3f}  {e['recall'][lab]:6.3f}  "
                     f"{e['support'][lab]:7d}")
    lines += ["", "confusion matrix (rows: true class, columns: predicted, in the order above):"]
    keys = [str(i + 1) for i in range(len(labels))]
    cell = max(4, *(len(str(v)) + 1 for row in e["confusion"] for v in row))
    lines.append(ljust("", name_w + 4) + "".join(rjust(k, cell) for k in keys))
    for i, (lab, row) in enumerate(zip(labels, e["confusion"], strict=True)):
        lines.append(f"{ljust(lab, name_w)} {rjust(keys[i], 3)}" + "".join(rjust(str(v), cell) for v in row))
    return lines


def write_lines(write: Callable[[str], Any], lines: list[str]) -> None:
    for line in lines:
        write(line)

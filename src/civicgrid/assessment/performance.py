"""Unit performance (目标责任考核): the arithmetic of a scheme over the engine's metrics.

A subject's score is the weighted mean of its indicators' points, over the indicators that have a
denominator in the period (weights renormalised over those; none: no score). An indicator's points
are 100 × its rate, or 100 × (1 − rate) for the rates where lower is better (返工率, 延期率). The
final score adds the review's adjustments; the grade is the highest floor the final score reaches."""

from __future__ import annotations

import math
from typing import Any

from civicgrid.cases.selectors import METRICS, Metrics

LOWER_IS_BETTER = frozenset({"rework", "extension"})
GRADES = ("A", "B", "C", "D")


def check_indicators(indicators: Any) -> list[dict[str, Any]]:
    """The indicators as stored, or ValueError naming what is wrong."""
    if not isinstance(indicators, list) or not indicators:
        raise ValueError("give at least one indicator")
    seen, out = set(), []
    for item in indicators:
        metric = item.get("metric") if isinstance(item, dict) else None
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")
        if metric in seen:
            raise ValueError(f"{metric} is given twice")
        try:
            weight = float(item.get("weight"))
        except (TypeError, ValueError):
            raise ValueError(f"{metric}: the weight is a number") from None
        if not math.isfinite(weight) or weight <= 0:
            raise ValueError(f"{metric}: the weight is a positive number")
        seen.add(metric)
        out.append({"metric": metric, "weight": weight})
    return out


def check_thresholds(thresholds: Any) -> dict[str, float]:
    if not isinstance(thresholds, dict) or set(thresholds) != set(GRADES):
        raise ValueError("give the floors of A, B, C and D")
    try:
        floors = {g: float(thresholds[g]) for g in GRADES}
    except (TypeError, ValueError):
        raise ValueError("each floor is a number") from None
    values = [floors[g] for g in GRADES]
    if any(not math.isfinite(v) or not 0 <= v <= 100 for v in values) or values != sorted(values, reverse=True):
        raise ValueError("the floors lie between 0 and 100, A highest")
    return floors


def score_parts(metrics: Metrics, indicators: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], float | None]:
    """Each indicator's numerator, denominator, value, points, effective weight and contribution,
    and the computed score (None when no indicator has a denominator)."""
    parts: dict[str, dict[str, Any]] = {}
    present = []
    for ind in indicators:
        rate = getattr(metrics, ind["metric"])
        value = rate.value
        points = None if value is None else 100.0 * ((1 - value) if ind["metric"] in LOWER_IS_BETTER else value)
        parts[ind["metric"]] = {"numerator": rate.numerator, "denominator": rate.denominator, "value": value,
                                "points": points, "weight": ind["weight"], "contribution": None}
        if points is not None:
            present.append(ind["metric"])
    total = sum(parts[m]["weight"] for m in present)
    if not present or total <= 0:
        return parts, None
    score = 0.0
    for m in present:
        contribution = round(parts[m]["points"] * parts[m]["weight"] / total, 6)
        parts[m]["contribution"] = contribution
        score += contribution
    return parts, round(score, 6)


def grade_of(score: float | None, floors: dict[str, float]) -> str:
    if score is None:
        return ""
    for g in GRADES:
        if score >= floors[g] - 1e-9:
            return g
    return "E"

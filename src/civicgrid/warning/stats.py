"""The spike rule's statistics, free of Django (the benchmark simulates with them in memory)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable


def nb_threshold(mean: float, variance: float, alpha: float, min_count: int, floor: float) -> int:
    """The least count k with P(X ≥ k) ≤ alpha, X negative binomial with this mean and variance
    (Poisson unless the variance exceeds 1.5 × mean + 0.5), the mean raised to ``floor``; at least
    ``min_count``."""
    mu = max(mean, floor, 1e-9)
    # Poisson unless the trailing days are clearly overdispersed (a sample variance of ~40 Poisson days
    # strays well under 1.5 × mean + 0.5); then negative-binomial, the variance at most 3 × mean + 1.
    var = mu if variance <= 1.5 * mu + 0.5 else min(variance, 3.0 * mu + 1.0)
    target = 1.0 - alpha
    if var > mu * 1.0001:
        r = mu * mu / (var - mu)
        p = r / (r + mu)
        pmf = math.exp(r * math.log(p))
        step = lambda k: (k + r) / (k + 1) * (1 - p)  # noqa: E731
    else:
        pmf = math.exp(-mu)
        step = lambda k: mu / (k + 1)  # noqa: E731
    if pmf <= 0.0 or mu > 5000:  # far in the normal regime
        return max(min_count, math.ceil(mu + 5.0 * math.sqrt(var)) + 1)
    cdf, k = pmf, 0
    while cdf < target and k < 1_000_000:
        pmf *= step(k)
        k += 1
        cdf += pmf
    return max(min_count, k + 1)


WORKING_DAY, REST_DAY = 0, 1


def daytype_of(day: dt.date, is_working_day: Callable[[dt.date], bool]) -> int:
    """The day's type on the working calendar: a working day (make-up weekend days 调休 included) or a
    rest day (weekends and holidays). Typing each weekday apart leaves 8 days a type in 8 weeks, too
    few for a stable mean: bench.warning measured 81 % recall that way against 97 % with two types."""
    return WORKING_DAY if is_working_day(day) else REST_DAY


def mean_variance(total: float, squares: float, days: int) -> tuple[float, float]:
    """Mean and (sample) variance of ``days`` daily counts given their sum and sum of squares (days
    without a case are zeros)."""
    mean = total / days
    return mean, max(0.0, squares / days - mean * mean) * days / max(1, days - 1)

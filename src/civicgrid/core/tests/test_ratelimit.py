"""Rate limits on public endpoints (限流)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from civicgrid.core.ratelimit import RateLimited, rate_limit


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_limit_counts_per_client_and_tells_when_to_retry():
    rf = RequestFactory()
    one, other = rf.post("/x", REMOTE_ADDR="10.0.0.1"), rf.post("/x", REMOTE_ADDR="10.0.0.2")
    for _ in range(3):
        rate_limit(one, "intake", limit=3, per_seconds=60)
    with pytest.raises(RateLimited) as err:
        rate_limit(one, "intake", limit=3, per_seconds=60)
    assert 0 < err.value.retry_after <= 60
    rate_limit(other, "intake", limit=3, per_seconds=60)  # another client has its own count
    rate_limit(one, "lookup", limit=3, per_seconds=60)  # and another bucket too


def test_a_limit_of_zero_is_no_limit():
    request = RequestFactory().get("/x", REMOTE_ADDR="10.0.0.3")
    for _ in range(50):
        rate_limit(request, "intake", limit=0, per_seconds=60)

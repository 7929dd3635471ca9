"""The WSGI application freezes the long-lived heap out of full garbage collections after warm-up."""

from __future__ import annotations

import gc

import pytest

from civicgrid.wsgi import FreezeAfterWarmUp


def test_the_heap_is_frozen_once_after_the_warm_up_requests(monkeypatch: pytest.MonkeyPatch):
    # The permanent generation's size is no count of freezes: a frozen object that dies leaves it
    # (CI saw it shrink by one between two requests), so the freezes are counted where they are made.
    freezes = []
    real_freeze = gc.freeze

    def counted_freeze():
        freezes.append(1)
        real_freeze()

    monkeypatch.setattr(gc, "freeze", counted_freeze)
    answered = []

    def app(environ, start_response):
        answered.append(environ["PATH_INFO"])
        return [b"ok"]

    wrapped = FreezeAfterWarmUp(app, after=3)
    gc.unfreeze()
    try:
        for n in range(2):
            assert wrapped({"PATH_INFO": f"/{n}"}, None) == [b"ok"]
        assert gc.get_freeze_count() == 0 and not freezes  # still warming up
        wrapped({"PATH_INFO": "/2"}, None)
        assert gc.get_freeze_count() > 0 and len(freezes) == 1  # the heap really is frozen
        for n in range(3, 6):
            wrapped({"PATH_INFO": f"/{n}"}, None)
        assert len(freezes) == 1  # once only
        assert answered == [f"/{n}" for n in range(6)]
    finally:
        gc.unfreeze()
